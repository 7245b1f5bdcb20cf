"""Tracker: orientation then duplicate-exporter removal, over one bounded connection table."""
from __future__ import annotations

from .connections import ConnectionTable
from .dedup import claim, new_entry, reoriented
from .orient import REASONS, STRONG, src_initiated
from .service_ports import ServicePorts

_EXPIRE_EVERY = 1024      # records between checks for idle connections


class Tracker(object):
    """``keep = tracker.process(flow)``: orients the flow in place; False = duplicate record."""

    def __init__(self, cfg, service_ports=None):
        col = cfg.collector
        # A connection's other records (reverse direction, next active-timeout slice) arrive within
        # an active timeout plus lateness: remember it that long in event time.
        remember = col.active_timeout + col.inactive_timeout + col.max_lateness
        self.ports = service_ports or ServicePorts()
        self.slack = col.inactive_timeout       # clock skew / export delay between exporters
        # key: 5-tuple with the lower (address, port) end first
        # entry: (low end initiated, fwd owner, fwd last end, rev owner, rev last end), see dedup
        self.connections = ConnectionTable(col.max_connections, remember)
        self.records_in = 0
        self.swapped = 0
        self.duplicates_dropped = 0
        self.dropped_by_exporter = {}
        self.by_reason = dict.fromkeys(REASONS, 0)
        self.watermark = 0.0

    def process(self, flow):
        self.records_in += 1
        end = flow.end
        if end > self.watermark:
            self.watermark = end
        if self.records_in % _EXPIRE_EVERY == 0:
            self.connections.expire(self.watermark)
        # "" / 0 for a missing address or port (non-IP sFlow samples) keep the key comparable
        s_ip, s_port = flow.src_ip or "", flow.src_port or 0
        d_ip, d_port = flow.dest_ip or "", flow.dest_port or 0
        src_low = s_ip < d_ip or (s_ip == d_ip and s_port <= d_port)
        key = ((s_ip, s_port, d_ip, d_port, flow.protocol_number) if src_low
               else (d_ip, d_port, s_ip, s_port, flow.protocol_number))
        entry = self.connections.get(key)
        known = None if entry is None else entry[0] == src_low
        reason, initiated = src_initiated(flow, known, self.ports)
        self.by_reason[reason] += 1
        low_initiated = src_low == initiated
        if entry is None:
            entry = new_entry(low_initiated)
        elif entry[0] != low_initiated and reason in STRONG:
            entry = reoriented(entry, low_initiated)   # stronger evidence corrects an earlier guess
        if not initiated:
            flow.swap()
            self.swapped += 1
        flow.oriented = True
        claimed = claim(entry, flow, self.slack)
        if claimed is not None:
            self.connections.put(key, claimed, self.watermark)
            return True
        self.connections.put(key, entry, self.watermark)    # keeps it fresh (and any correction)
        self.duplicates_dropped += 1
        exp = flow.exporter
        self.dropped_by_exporter[exp] = self.dropped_by_exporter.get(exp, 0) + 1
        return False

    def expire(self, watermark):
        """Forget connections idle (in event time) for the orientation memory period."""
        self.connections.expire(watermark)

    @property
    def counters(self):
        table = self.connections
        out = {"records_in": self.records_in, "duplicates_dropped": self.duplicates_dropped,
               "swapped": self.swapped, "connections": len(table),
               "connections_evicted": table.evicted, "connections_expired": table.expired,
               "exporters": {exp: {"duplicates_dropped": n} for exp, n in self.dropped_by_exporter.items()}}
        for reason, n in self.by_reason.items():
            out["orient_" + reason] = n
        return out
