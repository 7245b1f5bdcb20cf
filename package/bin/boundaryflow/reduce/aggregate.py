"""Fold flow records into rows per key and per event-time interval, with a cap on open keys.

A record belongs to the interval holding its end time (event time), so results do not depend on
arrival order; a late record re-opens its (already emitted) interval as a new row that leaves with
the next flush, so nothing is lost. Folding is lossless for bytes and packets.
"""
from __future__ import annotations

from ..model import storage_plane

_STORAGE_PLANES = ("ingestion", "checkpoint")


def merge_into(row, flow):
    """Add one record (or row) to an aggregated row."""
    row.bytes_out += flow.bytes_out
    row.packets_out += flow.packets_out
    row.bytes_in += flow.bytes_in
    row.packets_in += flow.packets_in
    row.tcp_flags |= flow.tcp_flags
    row.flow_count += flow.flow_count
    if flow.start < row.start:
        row.start = flow.start
    if flow.end > row.end:
        row.end = flow.end
    if row.plane in _STORAGE_PLANES:
        # the stitched row shows both halves of a storage conversation: decide again on the totals
        row.plane = storage_plane(row.src_role, row.dest_role, row.bytes_out, row.bytes_in) or row.plane
    if flow.threat_match is not None and row.threat_match is None:
        # threat intel may refresh mid-interval: a hit on any folded record marks the row
        row.threat_match = flow.threat_match
        row.threat_source = flow.threat_source
        row.threat_category = flow.threat_category


class IntervalAggregator(object):
    """``add(flow) -> rows shed early``; ``flush(now, final) -> rows of closed intervals``."""

    def __init__(self, interval, key, start_row, max_keys):
        self.interval = float(interval)
        self._key = key                  # flow -> hashable key
        self._start_row = start_row      # flow -> new aggregated row (a copy)
        self.max_keys = max(1, int(max_keys))
        self.buckets = {}                # interval index -> {key: row}
        self._last = (None, None)        # (index, rows) of the last record: most share it
        self.open_keys = 0
        self.early_flushed = 0           # rows emitted before their interval closed (memory cap)

    def add(self, flow):
        index = int(flow.end // self.interval)
        last_index, rows = self._last
        if index != last_index:
            rows = self.buckets.get(index)
            if rows is None:
                rows = self.buckets[index] = {}
            self._last = (index, rows)
        key = self._key(flow)
        row = rows.get(key)
        if row is not None:
            merge_into(row, flow)
            return ()
        rows[key] = self._start_row(flow)
        self.open_keys += 1
        if self.open_keys > self.max_keys:
            return self._shed()
        return ()

    def flush(self, now, final=False):
        out = []
        for index in sorted(self.buckets):
            if not final and (index + 1) * self.interval > now:
                break
            rows = self.buckets.pop(index)
            self._last = (None, None)
            self.open_keys -= len(rows)
            out.extend(rows.values())
        return out

    def _shed(self):
        """Over the cap: emit the oldest interval, or the older half of the only open one."""
        oldest = min(self.buckets)
        rows = self.buckets[oldest]
        self._last = (None, None)
        if len(self.buckets) > 1 or len(rows) < 2:
            del self.buckets[oldest]
            out = list(rows.values())
        else:
            items = list(rows.items())
            half = len(items) // 2
            self.buckets[oldest] = dict(items[half:])
            out = [row for _k, row in items[:half]]
        self.open_keys -= len(out)
        self.early_flushed += len(out)
        return out
