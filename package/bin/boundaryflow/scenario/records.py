"""One connection -> the unidirectional export records a boundary router would send for it.

A router exports each direction of a connection as its own record and cuts long connections every
``active_timeout`` (the record ends, a new one starts with the next packet). TCP flags are the OR of
the flags seen in that record's packets: the first record of each side carries SYN (SYN, SYN-ACK),
the last one FIN; records in between only ACK/PSH. Byte counts are spread over the pieces in
proportion to their duration (with jitter), packets follow from a typical packet size.
"""
from __future__ import annotations

from ..model import Flow, PROTO_TCP, PROTO_UDP

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
END_IDLE, END_ACTIVE, END_FIN = 1, 2, 3   # IPFIX flowEndReason


class Conn(object):
    """A connection between a client (initiator) and a server, with its two byte counts."""

    __slots__ = ("client", "cport", "server", "sport", "proto", "start", "end", "c_bytes", "s_bytes",
                 "c_pkt_size", "s_pkt_size")

    def __init__(self, client, cport, server, sport, proto, start, end, c_bytes, s_bytes,
                 c_pkt_size=None, s_pkt_size=None):
        self.client, self.cport, self.server, self.sport = client, cport, server, sport
        self.proto = proto
        # millisecond resolution, as IPFIX flowStart/EndMilliseconds carry them
        self.start = round(float(start), 3)
        self.end = round(max(float(end), self.start + 0.001), 3)
        self.c_bytes, self.s_bytes = int(c_bytes), int(s_bytes)
        # bulk senders fill MTU-sized packets, requesters send small ones
        self.c_pkt_size = c_pkt_size or _typical_size(self.c_bytes, self.s_bytes)
        self.s_pkt_size = s_pkt_size or _typical_size(self.s_bytes, self.c_bytes)


def _typical_size(mine, theirs):
    if mine >= 1 << 20 and mine >= theirs:
        return 1400
    return 120 if mine < 4096 else 400


def _pieces(start, end, active_timeout):
    cuts = [start]
    t = start + active_timeout
    while t < end - 1.0:
        cuts.append(t)
        t += active_timeout
    cuts.append(end)
    return list(zip(cuts[:-1], cuts[1:]))


def _spread(total, pieces, rng):
    if len(pieces) == 1:
        return [total]
    weights = [(b - a) * rng.uniform(0.6, 1.4) for a, b in pieces]
    s = sum(weights)
    out = [int(total * w / s) for w in weights]
    out[-1] += total - sum(out)
    return out


def _record(host_a, port_a, host_b, port_b, proto, start, end, nbytes, pkt_size, flags, reason, ifaces):
    f = Flow()
    f.src_ip, f.src_port, f.dest_ip, f.dest_port = host_a.ip, port_a, host_b.ip, port_b
    f.ip_version = host_a.version
    f.protocol_number = proto
    f.start, f.end = round(start, 3), round(end, 3)
    f.bytes_out = max(nbytes, 40)
    f.packets_out = max(1, -(-f.bytes_out // pkt_size))
    f.tcp_flags = flags
    f.input_if = ifaces[host_a.side]
    f.output_if = ifaces[host_b.side]
    f.vendor = {"flow_end_reason": reason}
    return f


def conn_records(conn, rng, active_timeout=1800.0, ifaces=None, reply_first=0.3):
    """The records of one connection. Within a time slice both sides end together; routers export
    them in no particular order, so a share (``reply_first``) lists the server's record first."""
    ifaces = ifaces or {"cluster": 11, "corporate": 21, "internet": 31}
    pieces = _pieces(conn.start, conn.end, active_timeout)
    c_parts = _spread(conn.c_bytes, pieces, rng)
    s_parts = _spread(conn.s_bytes, pieces, rng)
    last = len(pieces) - 1
    out = []
    for i, (a, b) in enumerate(pieces):
        reason = END_ACTIVE if i < last else (END_FIN if conn.proto == PROTO_TCP else END_IDLE)
        if conn.proto == PROTO_TCP:
            flags = ACK | PSH | (SYN if i == 0 else 0) | (FIN if i == last else 0)
        else:
            flags = 0
        pair = [_record(conn.client, conn.cport, conn.server, conn.sport, conn.proto, a, b,
                        c_parts[i], conn.c_pkt_size, flags, reason, ifaces)]
        if conn.s_bytes > 0:
            # the reply starts a moment after the request and ends with it
            pair.append(_record(conn.server, conn.sport, conn.client, conn.cport, conn.proto,
                                a + (0.001 if i == 0 else 0.0), b, s_parts[i], conn.s_pkt_size, flags,
                                reason, ifaces))
            if rng.random() < reply_first:
                pair.reverse()
        out.extend(pair)
    return out


def tcp(client, cport, server, sport, start, duration, c_bytes, s_bytes, **kw):
    return Conn(client, cport, server, sport, PROTO_TCP, start, start + duration, c_bytes, s_bytes, **kw)


def udp(client, cport, server, sport, start, duration, c_bytes, s_bytes, **kw):
    return Conn(client, cport, server, sport, PROTO_UDP, start, start + duration, c_bytes, s_bytes, **kw)
