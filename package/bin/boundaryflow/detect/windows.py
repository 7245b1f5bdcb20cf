"""Sparse bucketed sums for sliding event-time windows ("within any 1 h").

Amounts go into fixed-width buckets (1 minute by default); a window of W buckets is a sliding sum
over them. Only non-empty buckets are stored, so memory is bounded by the kept span divided by
the width, and a quiet pair costs almost nothing.
"""
from __future__ import annotations

from bisect import bisect_left

BUCKET_SECONDS = 60


class BucketSums(object):
    """Sorted non-empty buckets: parallel lists of bucket index and amount, plus their total."""

    __slots__ = ("idx", "amt", "total", "width")

    def __init__(self, width=BUCKET_SECONDS):
        self.idx = []
        self.amt = []
        self.total = 0
        self.width = width

    def add(self, index, amount):
        idx = self.idx
        self.total += amount
        if idx and idx[-1] == index:          # the common, in-order case
            self.amt[-1] += amount
            return
        if not idx or idx[-1] < index:
            idx.append(index)
            self.amt.append(amount)
            return
        i = bisect_left(idx, index)
        if idx[i] == index:
            self.amt[i] += amount
        else:
            idx.insert(i, index)
            self.amt.insert(i, amount)

    def spread(self, start, end, amount, max_span):
        """Add ``amount`` spread evenly over [start, end] (at most ``max_span`` back from end).
        Returns the (first, last) bucket touched."""
        bucket = self.width
        last = int(end // bucket)
        if start <= 0 or end - start <= bucket:
            self.add(last, amount)
            return last, last
        start = max(start, end - max_span)
        first = int(start // bucket)
        duration = end - start
        left = amount
        for b in range(first, last):
            part = int(amount * (min(end, (b + 1) * bucket) - max(start, b * bucket)) / duration)
            if part:
                self.add(b, part)
                left -= part
        if left:
            self.add(last, left)
        return first, last

    def max_window(self, width, lo, hi):
        """Largest sum over windows of ``width`` buckets that contain a bucket in [lo, hi].

        Returns (sum, end_index). Such windows end in [lo, hi + width - 1]; the best one ends on
        a non-empty bucket, so only those ends are tried, with a two-pointer running sum."""
        idx, amt = self.idx, self.amt
        n = len(idx)
        j = bisect_left(idx, lo)
        if j >= n:
            return 0, lo
        limit = hi + width - 1
        i = bisect_left(idx, idx[j] - width + 1)
        s = sum(amt[i:j])
        best, best_end = 0, lo
        while j < n:
            k = idx[j]
            if k > limit:
                break
            s += amt[j]
            while idx[i] <= k - width:
                s -= amt[i]
                i += 1
            if s > best:
                best, best_end = s, k
            j += 1
        return best, best_end

    def prune(self, min_index):
        """Drop buckets older than ``min_index``."""
        idx = self.idx
        if not idx or idx[0] >= min_index:
            return
        i = bisect_left(idx, min_index)
        self.total -= sum(self.amt[:i])
        del idx[:i]
        del self.amt[:i]

    def __len__(self):
        return len(self.idx)

    def to_state(self):
        return [self.idx, self.amt, self.width]

    @classmethod
    def from_state(cls, state):
        b = cls(state[2])
        b.idx, b.amt = list(state[0]), list(state[1])
        b.total = sum(b.amt)
        return b
