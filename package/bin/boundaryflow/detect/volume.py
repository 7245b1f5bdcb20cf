"""inference_volume_spike: connections to an inference endpoint per 5 minutes against its baseline.

A connection is a distinct (source address, source port) in the bucket, so the several records of
one connection (active-timeout splits, two unidirectional halves) count once. Counts are not
scaled by sampling: baseline and current value come from the same stream, so they compare.

Baseline: mean and standard deviation over ALL 5-minute buckets of the learning period, empty
buckets included (kept as running sum and sum of squares, O(1) per endpoint). Counting the empty
night and weekend buckets is deliberate: the baseline describes how the endpoint behaves over a
whole week, not only while busy. Busy-hour traffic then sits well inside mean + sigma x std
(the day/night swing makes std large), a sudden flood at night or on an idle endpoint still
clears it, and an endpoint that was idle or unknown during learning has mean = std = 0, so
``volume_spike_floor`` alone decides. Excluding empty buckets would make the mean of a
rarely-used endpoint its busiest moments and hide floods in its quiet hours.
Buckets are aligned to the epoch; the bucket in which learning ends still counts as learning.
A spike fires at the record that pushes the current bucket over
max(mean + sigma x std, factor x mean, floor); one finding per endpoint per hour.
"""
from __future__ import annotations

import math
from operator import attrgetter

from .bounded import Dedup, LRU
from .signatures import flow_finding

BUCKET = 300.0
_INF, _NEG_INF = float("inf"), float("-inf")
_OPEN = attrgetter("open")


class _Endpoint(object):
    __slots__ = ("s", "ss", "open", "final")

    def __init__(self):
        self.s = 0          # sum of learning-bucket counts
        self.ss = 0         # sum of their squares
        self.open = {}      # bucket index -> [count, set((src, src_port))]
        self.final = None   # (threshold, mean, std, buckets) once every learning bucket closed


class VolumeDetector(object):

    def __init__(self, det, learning, limits):
        self.sigma = det.volume_spike_sigma
        self.factor = det.volume_spike_factor
        self.floor = det.volume_spike_floor
        self.learning = learning
        self.conn_cap = limits["connections_per_bucket"]
        self.endpoints = LRU(limits["endpoints"])
        self.dedup = Dedup(3600.0, limits["dedup"])
        self.uncounted = 0       # connections beyond conn_cap in one bucket (counted, not remembered)
        self.closed_to = None    # every bucket before this index is closed
        # earliest end of any open bucket: close() skips its sweep until the horizon reaches it
        # (maintenance runs every event minute, buckets are 5 minutes)
        self._next_close = _NEG_INF
        self._bounds_for = None
        self._bounds_value = None

    def _bounds(self):
        """Learning buckets [first, last): every bucket that overlaps the learning period."""
        lr = self.learning
        if self._bounds_for != (lr.start, lr.end):
            self._bounds_for = (lr.start, lr.end)
            self._bounds_value = (int(lr.start // BUCKET), int(math.ceil(lr.end / BUCKET)))
        return self._bounds_value

    def observe(self, flow, out):
        """A non-late inference access record."""
        t = flow.end
        b = int(t // BUCKET)
        ep = flow.dest_ip
        e = self.endpoints.get(ep)
        if e is None:
            e = _Endpoint()
            self.endpoints.put(ep, e)
        cell = e.open.get(b)
        if cell is None:
            cell = e.open[b] = [0, set()]
            if (b + 1) * BUCKET < self._next_close:
                self._next_close = (b + 1) * BUCKET
        conns = cell[1]
        size = len(conns)
        if size < self.conn_cap:
            conns.add((flow.src_ip, flow.src_port))
            if len(conns) == size:          # a further record of a connection already counted
                return
        elif (flow.src_ip, flow.src_port) not in conns:
            self.uncounted += 1
        else:
            return
        cell[0] += 1
        n = cell[0]
        if n <= self.floor:                 # the threshold is never below the floor
            return
        first, last = self._bounds()
        if b < last:                        # a learning bucket: baseline, not detection
            return
        final = e.final
        if final is None:
            final = self._threshold(e, first, last)
            if self.closed_to is not None and self.closed_to >= last:
                e.final = final             # the baseline can no longer change
        threshold, mean, std, buckets = final
        if n > threshold and self.dedup.first(ep, t):
            by_src = {}
            for s, _p in conns:
                by_src[s] = by_src.get(s, 0) + 1
            top = sorted(by_src.items(), key=lambda kv: (-kv[1], kv[0]))[:5]   # ties: by address
            out.append(flow_finding("inference_volume_spike", flow, {
                "endpoint": ep, "connections": n, "threshold": round(threshold, 3),
                "baseline_mean": round(mean, 3), "baseline_std": round(std, 3),
                "baseline_buckets": buckets, "sigma": self.sigma, "factor": self.factor, "floor": self.floor,
                "window_start": b * BUCKET, "window_end": (b + 1) * BUCKET,
                "learning_start": self.learning.start, "learning_end": self.learning.end,
                "top_sources": [{"src": s, "connections": c} for s, c in top]}, risk_object=ep))

    def _threshold(self, e, first, last):
        s, ss = e.s, e.ss
        for b, cell in e.open.items():      # learning buckets still open (within max_lateness)
            if first <= b < last:
                s += cell[0]
                ss += cell[0] * cell[0]
        n = max(1, last - first)
        mean = s / float(n)
        std = math.sqrt(max(0.0, ss / float(n) - mean * mean))
        return max(mean + self.sigma * std, self.factor * mean, self.floor), mean, std, n

    def close(self, horizon):
        """Close 5-minute buckets that ended before the lateness horizon; learning ones feed the baseline."""
        if self.learning.start is None:
            return
        first, last = self._bounds()
        self.closed_to = int(horizon // BUCKET)
        if horizon >= self._next_close:
            next_close = _INF
            for _ep, e in self.endpoints.items():
                for b in list(e.open):
                    if (b + 1) * BUCKET <= horizon:
                        count = e.open.pop(b)[0]
                        if first <= b < last:
                            e.s += count
                            e.ss += count * count
                    elif (b + 1) * BUCKET < next_close:
                        next_close = (b + 1) * BUCKET
            self._next_close = next_close
        self.dedup.prune(horizon)

    def sizes(self):
        return {"volume_endpoints": len(self.endpoints),
                "volume_open_buckets": sum(map(len, map(_OPEN, self.endpoints.values())))}

    def evictions(self):
        return {"volume_endpoints": self.endpoints.evictions, "volume_uncounted_connections": self.uncounted}

    def to_state(self):
        return {"endpoints": [[ep, e.s, e.ss, [[b, c[0], [list(x) for x in c[1]]] for b, c in e.open.items()]]
                              for ep, e in self.endpoints.items()],
                "dedup": self.dedup.to_state()}

    def load_state(self, st):
        for ep, s, ss, cells in st.get("endpoints", ()):
            e = _Endpoint()
            e.s, e.ss = s, ss
            for b, count, conns in cells:
                e.open[b] = [count, set(tuple(x) for x in conns)]
            self.endpoints.put(ep, e)
        self._next_close = _NEG_INF      # restored buckets: the next close() sweeps them
        self.dedup.load_state(st.get("dedup"))
