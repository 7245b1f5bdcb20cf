"""Community ID v1 (https://github.com/corelight/community-id-spec) with the standard library.

The same flow gets the same ID in Zeek, Suricata and here, so analysts can pivot between them.
The `communityid` package computes it too but costs ~23 us per flow; this costs well under 1 us
because addresses arrive already packed (the enricher caches them per address) and the hashed
bytes are built by one precompiled struct.
"""
from __future__ import annotations

import binascii
import hashlib
import socket
import struct

from ..data import read_csv

PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMPV6, PROTO_SCTP = 1, 6, 17, 58, 132
PORTED = frozenset((PROTO_TCP, PROTO_UDP, PROTO_SCTP))      # protocols whose ports are hashed

# seed, address, address, protocol, one byte of padding[, port, port] - network byte order
_WITH_PORTS = {4: struct.Struct("!H4s4sBxHH").pack, 16: struct.Struct("!H16s16sBxHH").pack}
_NO_PORTS = {4: struct.Struct("!H4s4sBx").pack, 16: struct.Struct("!H16s16sBx").pack}

_ICMP_PAIRS = {PROTO_ICMP: {}, PROTO_ICMPV6: {}}
for _row in read_csv("icmp_type_pairs.csv"):
    _ICMP_PAIRS[PROTO_ICMP if _row["family"] == "icmp" else PROTO_ICMPV6][int(_row["type"])] = int(_row["counterpart"])

try:
    # CPython's own SHA-1: for a 16-40 byte tuple it is ~15% cheaper than OpenSSL's (hashlib.sha1),
    # whose per-object EVP context setup costs more than hashing one block
    from _sha1 import sha1
except ImportError:          # an interpreter built without it
    sha1 = hashlib.sha1
_b64 = binascii.b2a_base64


def ported_packer(packed):
    """The struct packer :meth:`CommunityId.compute` uses for a ported protocol (TCP, UDP, SCTP)
    when ``packed`` is the source address; None for an empty or odd-sized address. (The enricher
    caches it per address and inlines the ported case.)"""
    return _WITH_PORTS.get(len(packed))


def packed_address(text):
    """'10.1.2.3' / '2001:db8::1' -> network-order bytes (4 or 16)."""
    return socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)


class CommunityId(object):
    """Computes ``1:<base64 sha1>`` for packed addresses, protocol and ports."""

    def __init__(self, seed=0):
        self._seed = seed

    def compute(self, saddr, daddr, proto, sport, dport, icmp_type=None, icmp_code=None):
        """saddr/daddr: packed addresses of one family (see :func:`packed_address`); ports as ints.

        For ICMP/ICMPv6 give ``icmp_type``/``icmp_code``; when they are None, the NetFlow
        convention ``dest_port = type * 256 + code`` is used."""
        if proto in PORTED:
            pack = _WITH_PORTS[len(saddr)]
            # ordered endpoint first: the same ID for both directions of a connection
            if saddr < daddr or (saddr == daddr and sport <= dport):
                data = pack(self._seed, saddr, daddr, proto, sport, dport)
            else:
                data = pack(self._seed, daddr, saddr, proto, dport, sport)
        elif proto in _ICMP_PAIRS:
            if icmp_type is None:
                icmp_type, icmp_code = (dport >> 8) & 0xFF, dport & 0xFF
            pack = _WITH_PORTS[len(saddr)]
            counterpart = _ICMP_PAIRS[proto].get(icmp_type)
            if counterpart is None:       # one-way message: (type, code), keep the given order
                data = pack(self._seed, saddr, daddr, proto, icmp_type, icmp_code or 0)
            elif saddr < daddr or (saddr == daddr and icmp_type <= counterpart):
                data = pack(self._seed, saddr, daddr, proto, icmp_type, counterpart)
            else:
                data = pack(self._seed, daddr, saddr, proto, counterpart, icmp_type)
        else:                             # other protocols hash no ports
            if daddr < saddr:
                saddr, daddr = daddr, saddr
            data = _NO_PORTS[len(saddr)](self._seed, saddr, daddr, proto & 0xFF)
        return "1:" + _b64(sha1(data).digest(), newline=False).decode("ascii")
