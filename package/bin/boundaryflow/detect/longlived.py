"""long_lived_outbound: one connection from an AI host to an external destination lasting >= long_lived.

Exporters split a long connection into records at their active timeout. Records of one 5-tuple are
chained while the gap between one record's end and the next one's start stays within the
exporter's inactive timeout (plus GAP_SLACK for export-timer jitter); a longer gap means the
exporter expired the flow, so a later record is a new connection. One finding per connection.
A TCP record carrying FIN or RST ends its connection, so most short connections (repository
pulls, API calls) leave no state behind.
"""
from __future__ import annotations

from .bounded import LRU, key_from_json
from .signatures import flow_finding, geo_of

GAP_SLACK = 5.0   # seconds; exporters scan their caches on a timer, so expiry is not exact
_TCP, _FIN_RST = 6, 0x01 | 0x04


class LongLivedDetector(object):

    def __init__(self, det, collector, egress, limits):
        self.long_lived = det.long_lived
        self.max_gap = collector.inactive_timeout + GAP_SLACK
        # A record that extends a chain starts within max_gap of its end and lasts up to one active
        # timeout, so a chain stays extendable that long after its last end (beyond the horizon).
        self.keep = self.max_gap + collector.active_timeout
        self.egress = egress
        # 5-tuple -> [first_start, last_end, fired, records, bytes_out, bytes_in]
        self.chains = LRU(limits["connections"])

    def observe(self, flow, out):
        """A non-late outbound record to a destination that is not egress-allowlisted."""
        key = (flow.src_ip, flow.src_port, flow.dest_ip, flow.dest_port, flow.protocol_number)
        end = flow.end
        start = flow.start or end
        closed = flow.protocol_number == _TCP and flow.tcp_flags & _FIN_RST
        if closed and end - start < self.long_lived and key not in self.chains:
            return                                # a whole short connection in one record
        ch = self.chains.get(key)
        if ch is None or start - ch[1] > self.max_gap:
            ch = [start, end, False, 0, 0, 0]     # first record, or the tuple was reused
            self.chains.put(key, ch)
        elif end < ch[0] - self.max_gap:
            return                                # an older, separate connection arriving late
        else:
            if start < ch[0]:
                ch[0] = start
            if end > ch[1]:
                ch[1] = end
        ch[3] += 1
        ch[4] += flow.bytes_out
        ch[5] += flow.bytes_in
        if not ch[2] and ch[1] - ch[0] >= self.long_lived:
            ch[2] = True
            out.append(flow_finding("long_lived_outbound", flow, {
                "first_seen": ch[0], "connection_start": ch[0], "last_seen": ch[1], "duration": round(ch[1] - ch[0], 3),
                "threshold_seconds": self.long_lived, "records": ch[3], "bytes_out": ch[4],
                "bytes_in": ch[5], "src_port": flow.src_port, "transport_number": flow.protocol_number,
                "max_gap_seconds": self.max_gap, "allowlist": self.egress.evidence(None),
                "dest_geo": geo_of(flow, "dest")}))
        if closed:
            self.chains.pop(key)                  # the connection closed: nothing more to chain

    def prune(self, horizon):
        """Forget connections that no non-late record can extend any more."""
        cutoff = horizon - self.keep
        self.chains.sweep(lambda ch: ch[1] < cutoff)

    def sizes(self):
        return {"long_lived_connections": len(self.chains)}

    def evictions(self):
        return {"long_lived_connections": self.chains.evictions}

    def to_state(self):
        return {"chains": [[list(k), ch] for k, ch in self.chains.items()]}

    def load_state(self, st):
        for k, ch in st.get("chains", ()):
            self.chains.put(key_from_json(k), list(ch))
