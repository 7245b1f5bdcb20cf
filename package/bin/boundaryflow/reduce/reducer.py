"""Reducer: the [reduction] mode applied to the full (oriented, enriched) stream."""
from __future__ import annotations

from .aggregate import IntervalAggregator
from .modes import (consolidated_key, consolidated_row, conversation_key, conversation_row,
                    security_relevant)


class Reducer(object):
    def __init__(self, cfg):
        red = cfg.reduction
        self.mode = red.mode
        self.interval = red.interval
        cap = cfg.collector.max_connections
        self._conversations = IntervalAggregator(red.interval, conversation_key, conversation_row, cap)
        self._consolidated = IntervalAggregator(red.interval, consolidated_key, consolidated_row, cap)
        self.flows_in = 0
        self.events_out = 0
        self.detail_flows = 0            # consolidated mode: records kept per conversation
        self._per_exporter = {}          # exporter -> [flows_in, events_out]

        # one add per mode, chosen once (the per-record path has no mode test)
        self.add = {"flow": self._add_flow, "conversation": self._add_conversation,
                    "consolidated": self._add_consolidated}[self.mode]

    def add(self, flow, keep_detail=False):
        """Take one record; returns rows ready now (flow mode, or shed by the memory cap)."""
        raise NotImplementedError    # replaced per instance in __init__

    def _count_in(self, exporter):
        self.flows_in += 1
        st = self._per_exporter.get(exporter)
        if st is None:
            st = self._per_exporter[exporter] = [0, 0]
        st[0] += 1
        return st

    def _add_flow(self, flow, keep_detail=False):
        # _count_in inlined: flow mode is the per-record path with nothing else to do
        self.flows_in += 1
        self.events_out += 1
        exporter = flow.exporter
        st = self._per_exporter.get(exporter)
        if st is None:
            st = self._per_exporter[exporter] = [0, 0]
        st[0] += 1
        st[1] += 1
        return [flow]

    def _add_conversation(self, flow, keep_detail=False):
        self._count_in(flow.exporter)
        out = self._conversations.add(flow)
        return self._emit(out) if out else []

    def _add_consolidated(self, flow, keep_detail=False):
        self._count_in(flow.exporter)
        if keep_detail or security_relevant(flow):
            self.detail_flows += 1
            out = self._conversations.add(flow)
        else:
            out = self._consolidated.add(flow)
        return self._emit(out) if out else []

    def flush(self, now, final=False):
        """Rows whose interval closed by event time ``now``; everything when ``final``."""
        out = self._conversations.flush(now, final)
        out.extend(self._consolidated.flush(now, final))
        return self._emit(out)

    def _emit(self, rows):
        rows = list(rows)
        self.events_out += len(rows)
        per = self._per_exporter
        for row in rows:
            st = per.get(row.exporter)
            if st is not None:
                st[1] += 1
        return rows

    @property
    def counters(self):
        conv, cons = self._conversations, self._consolidated
        return {
            "mode": self.mode, "flows_in": self.flows_in, "events_out": self.events_out,
            "reduction_ratio": ratio(self.flows_in, self.events_out),
            "open_keys": conv.open_keys + cons.open_keys,
            "early_flushed": conv.early_flushed + cons.early_flushed,
            "detail_flows": self.detail_flows,
            "exporters": {exp: {"flows_in": fi, "events_out": eo, "reduction_ratio": ratio(fi, eo)}
                          for exp, (fi, eo) in self._per_exporter.items()},
        }


def ratio(flows_in, events_out):
    """Records per emitted event (1.0 = no reduction); 0 before anything was emitted."""
    return round(flows_in / events_out, 2) if events_out else 0.0
