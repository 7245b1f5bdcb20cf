"""Tracker: orientation then duplicate-exporter removal, over one bounded connection table.

``process`` is the per-record hot path (~1 µs budget): the evidence order of orient.py and the
ownership rule of dedup.py are applied inline on the record's attribute dict, with the connection
table's current generation read directly, so a record costs one dict probe and no helper calls.
"""
from __future__ import annotations

from .connections import ConnectionTable
from .orient import ICMP_ROLES, REASONS
from .service_ports import ServicePorts

_EXPIRE_MASK = 1024 - 1        # check for idle connections every 1024 records
_SYN_ACK, _SYN_ONLY = 0x12, 0x02
_PROTO_TCP = 6


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
        d = flow.__dict__
        get = d.get
        n = self.records_in = self.records_in + 1
        end = get("end", 0.0)
        if end > self.watermark:
            self.watermark = end
        if not n & _EXPIRE_MASK:
            self.connections.expire(self.watermark)
        # "" / 0 for a missing address or port (non-IP sFlow samples) keep the key comparable
        s_ip, s_port = get("src_ip") or "", get("src_port") or 0
        d_ip, d_port = get("dest_ip") or "", get("dest_port") or 0
        proto = get("protocol_number", 0)
        src_low = s_ip < d_ip or (s_ip == d_ip and s_port <= d_port)
        key = (s_ip, s_port, d_ip, d_port, proto) if src_low else (d_ip, d_port, s_ip, s_port, proto)
        table = self.connections
        current = table.current
        entry = current.get(key)
        in_current = entry is not None
        if not in_current and table.old:
            entry = table.get(key)              # moves it from the old generation

        # Orientation: which end initiated (evidence order and meaning: orient.py).
        strong = True
        if get("initiator_known"):
            reason, initiated = "decoder", True
        elif get("tcp_flags", 0) & _SYN_ACK == _SYN_ONLY and proto == _PROTO_TCP:
            reason, initiated = "tcp_syn", True
        else:
            icmp_type = get("icmp_type")
            role = None if icmp_type is None else ICMP_ROLES.get((proto, icmp_type))
            if role is not None:
                reason, initiated = "icmp_type", role
            elif entry is not None:
                reason, initiated, strong = "known_connection", entry[0] == src_low, False
            else:
                strong = False
                ranks = self.ports.table(proto)
                src_rank = ranks[s_port] if s_port else 0
                dest_rank = ranks[d_port] if d_port else 0
                if src_rank != dest_rank:
                    reason, initiated = "service_port", dest_rank > src_rank
                else:
                    reason, initiated = "first_seen", True
        self.by_reason[reason] += 1
        low_initiated = src_low == initiated
        if entry is None:
            low, f_owner, f_end, r_owner, r_end = low_initiated, None, 0.0, None, 0.0
        else:
            low, f_owner, f_end, r_owner, r_end = entry
            if low != low_initiated and strong:
                # stronger evidence corrects an earlier guess: forward and reverse trade places
                low, f_owner, f_end, r_owner, r_end = low_initiated, r_owner, r_end, f_owner, f_end
                entry = (low, f_owner, f_end, r_owner, r_end)

        # Directions this record carries, in its final (initiator = src) orientation.
        sent = bool(get("packets_out", 0) or get("bytes_out", 0))
        received = bool(get("packets_in", 0) or get("bytes_in", 0))
        if initiated:
            fwd, rev = sent, received
        else:
            fwd, rev = received, sent
            flow.swap()
            self.swapped += 1
        flow.oriented = True

        # Duplicate-exporter removal (dedup.py): claim the directions this record carries.
        if not (fwd or rev):
            fwd = True                      # a record with no counters still counts as forward
        exporter = get("exporter")
        start = get("start", 0.0)
        slack = self.slack
        take_fwd = fwd and (f_owner is None or f_owner == exporter or start > f_end + slack)
        take_rev = rev and (r_owner is None or r_owner == exporter or start > r_end + slack)
        if take_fwd or take_rev:
            if take_fwd:
                if f_owner != exporter or end > f_end:
                    f_end = end
                f_owner = exporter
            if take_rev:
                if r_owner != exporter or end > r_end:
                    r_end = end
                r_owner = exporter
            claimed = (low, f_owner, f_end, r_owner, r_end)
            if in_current:
                current[key] = claimed          # an existing key: no growth, no rotation
            else:
                table.put(key, claimed, self.watermark)
            return True
        if entry is None:
            entry = (low, f_owner, f_end, r_owner, r_end)
        table.put(key, entry, self.watermark)    # keeps it fresh (and any correction)
        self.duplicates_dropped += 1
        self.dropped_by_exporter[exporter] = self.dropped_by_exporter.get(exporter, 0) + 1
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
