"""Write export datagrams into a classic pcap file (Ethernet / IPv4 / UDP), as a capture on the
collector's interface would show them: for tshark cross-checks and ``boundaryflow replay``."""
from __future__ import annotations

import ipaddress
import struct

_GLOBAL = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)   # LINKTYPE_ETHERNET


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(payload, src, dst, ident=0):
    """One Ethernet frame carrying ``payload`` in UDP from src (ip, port) to dst (ip, port)."""
    udp_len = 8 + len(payload)
    udp = struct.pack("!HHHH", src[1], dst[1], udp_len, 0) + payload     # checksum 0 = none (IPv4)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, ident & 0xFFFF, 0x4000, 64, 17, 0,
                     ipaddress.IPv4Address(src[0]).packed, ipaddress.IPv4Address(dst[0]).packed)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + udp


def export_time(datagram):
    """The export time in a NetFlow v9/IPFIX header (seconds), or None."""
    if len(datagram) >= 16 and datagram[:2] == b"\x00\x0a":
        return struct.unpack("!I", datagram[4:8])[0]
    return None


def write_pcap(path, datagrams, src=("10.0.0.1", 50000), dst=("127.0.0.1", 4739)):
    """Write datagrams as one UDP packet each; timestamps = their export time. An item may be
    ``bytes`` (sent from ``src``) or ``(source address, bytes)`` for several exporters."""
    n = 0
    with open(path, "wb") as fh:
        fh.write(_GLOBAL)
        last = 0
        for i, d in enumerate(datagrams):
            sender = src
            if isinstance(d, tuple):
                sender, d = (d[0], src[1]), d[1]
            ts = export_time(d) or last
            last = ts
            fr = frame(d, sender, dst, i)
            fh.write(struct.pack("<IIII", ts, 0, len(fr), len(fr)))
            fh.write(fr)
            n += 1
    return n
