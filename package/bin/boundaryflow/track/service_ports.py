"""Which end of a connection is the service: a rank per (transport, port) from data/service_ports.csv.

Rank 3 = a listed service port, 2 = any other IANA well-known port (1-1023), 1 = an unlisted port
below the ephemeral range (1024-32767: registered ports servers listen on, e.g. 9001 or 4444),
0 = ephemeral (32768-65535: where Linux, BSD and Windows pick client ports) or unknown.
A connection from an ephemeral client port to an unlisted server port is thus oriented right even
when the exporter sends the server's reply first. Ranks live in two 65536-entry bytearrays so the
per-record lookup is one index operation.
"""
from __future__ import annotations

from ..data import read_csv

LISTED, WELL_KNOWN, REGISTERED, EPHEMERAL = 3, 2, 1, 0
EPHEMERAL_START = 32768
_TCP, _UDP = 6, 17


def _port_range(text):
    lo, _, hi = text.strip().partition("-")
    lo = int(lo)
    hi = int(hi) if hi else lo
    if not 0 < lo <= hi <= 65535:
        raise ValueError("bad port %r in service_ports.csv" % text)
    return range(lo, hi + 1)


class ServicePorts(object):
    """rank(protocol_number, port) -> 3 listed, 2 well-known, 1 registered, 0 ephemeral."""

    def __init__(self, rows=None):
        base = bytearray(65536)
        for port in range(1, EPHEMERAL_START):
            base[port] = WELL_KNOWN if port < 1024 else REGISTERED
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
