"""Which end of a connection is the service: a rank per (transport, port) from data/service_ports.csv.

Rank 2 = a listed service port, 1 = any other IANA well-known port (1-1023), 0 = ephemeral/unknown.
Ranks live in two 65536-entry bytearrays so the per-record lookup is one index operation.
"""
from __future__ import annotations

from ..data import read_csv

LISTED, WELL_KNOWN, EPHEMERAL = 2, 1, 0
_TCP, _UDP = 6, 17


def _port_range(text):
    lo, _, hi = text.strip().partition("-")
    lo = int(lo)
    hi = int(hi) if hi else lo
    if not 0 < lo <= hi <= 65535:
        raise ValueError("bad port %r in service_ports.csv" % text)
    return range(lo, hi + 1)


class ServicePorts(object):
    """rank(protocol_number, port) -> 2 listed, 1 well-known, 0 ephemeral."""

    def __init__(self, rows=None):
        base = bytearray(65536)
        for port in range(1, 1024):
            base[port] = WELL_KNOWN
        tcp, udp = bytearray(base), bytearray(base)
        self.names = {}
        for row in rows if rows is not None else read_csv("service_ports.csv"):
            transport = row["transport"].strip().lower()
            for port in _port_range(row["port"]):
                if transport in ("tcp", "any"):
                    tcp[port] = LISTED
                    self.names[(_TCP, port)] = row["service"]
                if transport in ("udp", "any"):
                    udp[port] = LISTED
                    self.names[(_UDP, port)] = row["service"]
        # other port-carrying transports (SCTP, DCCP...) share the TCP table
        self._tables = {_TCP: tcp, _UDP: udp}
        self._default = tcp

    def rank(self, protocol_number, port):
        if not port:
            return EPHEMERAL
        return self._tables.get(protocol_number, self._default)[port]

    def table(self, protocol_number):
        """The rank bytearray for a transport (hot-path callers index it directly)."""
        return self._tables.get(protocol_number, self._default)
