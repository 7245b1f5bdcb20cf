#!/usr/bin/env python3
"""Send the UDP payloads of a pcap (Ethernet / Linux loopback captures by tcpdump) to HOST:PORT, in
order, so that a collector such as nfcapd sees the same export datagrams again.

usage: replay_udp.py CAPTURE.pcap HOST PORT [--gap SECONDS]
"""
from __future__ import annotations

import argparse
import socket
import struct
import time


def udp_payloads(path):
    """Yield each UDP payload of an IPv4/IPv6 Ethernet pcap (classic pcap, either byte order)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit("%s: link type %d, expected Ethernet (1)" % (path, linktype))
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        ethertype = struct.unpack("!H", frame[12:14])[0]
        ip = frame[14:]
        if ethertype == 0x0800 and ip[9] == 17:
            udp = ip[(ip[0] & 0x0F) * 4:]
        elif ethertype == 0x86DD and ip[6] == 17:
            udp = ip[40:]
        else:
            continue
        length = struct.unpack("!H", udp[4:6])[0]
        yield udp[8:length]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("capture")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--gap", type=float, default=0.002, help="pause between datagrams (no receive drops)")
    a = ap.parse_args()
    sock = socket.socket(socket.AF_INET6 if ":" in a.host else socket.AF_INET, socket.SOCK_DGRAM)
    n = 0
    for payload in udp_payloads(a.capture):
        sock.sendto(payload, (a.host, a.port))
        n += 1
        time.sleep(a.gap)
    print("replayed %d datagrams from %s" % (n, a.capture))


if __name__ == "__main__":
    main()
