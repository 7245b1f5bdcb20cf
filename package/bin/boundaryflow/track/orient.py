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
Only 1-3 may correct the orientation an earlier record gave a connection. Tracker.process applies
these rules inline (it is the per-record hot path); this module holds their tables.
"""
from __future__ import annotations

from ..data import read_csv
from ..model import PROTO_ICMP, PROTO_ICMPV6

REASONS = ("decoder", "tcp_syn", "icmp_type", "known_connection", "service_port", "first_seen")

_FAMILY = {"icmp": PROTO_ICMP, "icmpv6": PROTO_ICMPV6}
# (protocol number, ICMP type) -> True for a request (sender initiated), False for a reply
ICMP_ROLES = {(_FAMILY[r["family"]], int(r["type"])): r["role"] == "request"
              for r in read_csv("icmp_roles.csv")}
