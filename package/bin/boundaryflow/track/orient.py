"""Initiator (client) orientation: which end of a record opened the connection (DESIGN.md §3).

Evidence, strongest first:
  1. the decoder says so (``flow.initiator_known``: RFC 5103 biflowDirection, NSEL, ...);
  2. TCP SYN without ACK in the record's flags -> the record's src initiated;
  3. an ICMP request (echo, ...) was sent by the initiator, a reply by the responder
     (data/icmp_roles.csv);
  4. a connection already seen (either direction) -> orient like its earlier records, so the
     reverse record of a known connection gets the same src/dest;
  5. a service port (data/service_ports.csv, or any port < 1024) against a lower-ranked one
     -> the service side is dest;
  6. otherwise the first record seen decides.
"""
from __future__ import annotations

from ..data import read_csv
from ..model import PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, TCP_ACK, TCP_SYN

REASONS = ("decoder", "tcp_syn", "icmp_type", "known_connection", "service_port", "first_seen")
STRONG = ("decoder", "tcp_syn", "icmp_type")   # evidence that may correct a connection's entry

_FAMILY = {"icmp": PROTO_ICMP, "icmpv6": PROTO_ICMPV6}
# (protocol number, ICMP type) -> True for a request (sender initiated), False for a reply
ICMP_ROLES = {(_FAMILY[r["family"]], int(r["type"])): r["role"] == "request"
              for r in read_csv("icmp_roles.csv")}


def src_initiated(flow, known_src_initiated, port_ranks):
    """(reason, True when the record's src initiated). ``known_src_initiated`` is None when the
    connection is new, else what its earlier records said about this record's src."""
    if flow.initiator_known:
        return "decoder", True
    flags = flow.tcp_flags
    proto = flow.protocol_number
    if flags & TCP_SYN and not flags & TCP_ACK and proto == PROTO_TCP:
        return "tcp_syn", True
    if flow.icmp_type is not None:
        role = ICMP_ROLES.get((proto, flow.icmp_type))
        if role is not None:
            return "icmp_type", role
    if known_src_initiated is not None:
        return "known_connection", known_src_initiated
    ranks = port_ranks.table(proto)
    sport, dport = flow.src_port, flow.dest_port
    src_rank = ranks[sport] if sport else 0
    dest_rank = ranks[dport] if dport else 0
    if src_rank != dest_rank:
        return "service_port", dest_rank > src_rank
    return "first_seen", True
