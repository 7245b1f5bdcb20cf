#!/usr/bin/env python3
"""Write a small synthetic pcap of AI-cluster boundary traffic: the INPUT the real exporters meter.

Standard library only (struct for the wire formats), seeded, so the same file comes out every run.
The mix (a few thousand packets over ~2 minutes):
  * NFS (2049) reads storage -> GPU nodes and one checkpoint write GPU -> storage (bulk TCP)
  * S3 over HTTPS (443) bulk reads from an object store
  * HTTPS inference requests from outside clients to the inference gateway
  * an SSH session from outside, a short SYN -> RST port probe
  * DNS (UDP 53) queries, ICMP echo, a few IPv6 flows (TCP, UDP, ICMPv6)
  * 802.1Q-tagged management traffic (VLAN 100)
TCP connections have real handshakes, ACKs and FIN teardown, so exporters see real flag sets.

usage: make_input_pcap.py OUTPUT.pcap
"""
from __future__ import annotations

import random
import socket
import struct
import sys

T0 = 1768478400.0          # 2026-01-15 12:00:00 UTC: fixed so the capture is reproducible
SEED = 20260115
MSS = 1448

GPU = ["10.20.1.%d" % i for i in range(11, 15)]
STORAGE = "10.30.0.10"
OBJECT_STORE = "10.40.0.20"
INFERENCE = "10.50.0.10"
DNS = "10.0.0.53"
MGMT = "10.99.0.5"
OUTSIDE = ["198.51.100.%d" % i for i in range(10, 40)] + ["203.0.113.%d" % i for i in range(5, 15)]
V6_GPU, V6_STORAGE, V6_INFERENCE, V6_CLIENT = "2001:db8:20::11", "2001:db8:30::10", "2001:db8:50::10", "2001:db8:ffff::7"

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mac(host):
    """A stable locally administered MAC per address, so L2 looks plausible."""
    h = sum(socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)) & 0xFF
    return bytes([0x02, 0x00, 0x5E, 0x10, (len(host) * 7) & 0xFF, h])


def ethernet(src, dst, ethertype, payload, vlan=None):
    hdr = mac(dst) + mac(src)
    if vlan is not None:
        hdr += struct.pack("!HH", 0x8100, vlan & 0x0FFF)   # 802.1Q tag, priority 0
    return hdr + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ident):
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64, proto, 0, s, d)
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr, s + d + struct.pack("!BBH", 0, proto, len(payload))


def ipv6(src, dst, proto, payload):
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    hdr = struct.pack("!IHBB16s16s", 0x60000000, len(payload), proto, 64, s, d)
    return hdr, s + d + struct.pack("!IxxxB", len(payload), proto)


def ip_packet(src, dst, proto, l4, ident, vlan=None):
    """Wrap an L4 segment (checksum field at the protocol's offset filled here) in IP + Ethernet."""
    v6 = ":" in src
    hdr, pseudo = ipv6(src, dst, proto, l4) if v6 else ipv4(src, dst, proto, l4, ident)
    off = {6: 16, 17: 6, 1: 2, 58: 2}[proto]
    csum = checksum((b"" if proto == 1 else pseudo) + l4)
    if proto == 17 and csum == 0:
        csum = 0xFFFF
    l4 = l4[:off] + struct.pack("!H", csum) + l4[off + 2:]
    return ethernet(src, dst, 0x86DD if v6 else 0x0800, hdr + l4, vlan)


class Trace(object):
    """Collects (time, frame) pairs from many conversations, then writes them in time order."""

    def __init__(self, rng):
        self.rng = rng
        self.frames = []
        self.ident = 1

    def add(self, t, frame):
        self.frames.append((round(t, 6), len(self.frames), frame))

    def tcp(self, t, src, dst, sport, dport, seq, ack, flags, payload=b"", vlan=None):
        seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                          65535, 0, 0) + payload
        self.ident += 1
        self.add(t, ip_packet(src, dst, 6, seg, self.ident, vlan))

    def udp(self, t, src, dst, sport, dport, payload, vlan=None):
        dgram = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        self.ident += 1
        self.add(t, ip_packet(src, dst, 17, dgram, self.ident, vlan))

    def icmp_echo(self, t, src, dst, ident, seq, reply=False):
        v6 = ":" in src
        kind = (129 if reply else 128) if v6 else (0 if reply else 8)
        msg = struct.pack("!BBHHH", kind, 0, 0, ident, seq) + bytes(range(48))
        self.ident += 1
        self.add(t, ip_packet(src, dst, 58 if v6 else 1, msg, self.ident))

    def connection(self, t, client, server, sport, dport, request, response, rtt=0.0004, gap=0.00012,
                   vlan=None):
        """A full TCP conversation: handshake, request bytes up, response bytes down, FIN/ACK close.
        Returns the time of the last packet."""
        c_seq, s_seq = self.rng.getrandbits(32), self.rng.getrandbits(32)
        self.tcp(t, client, server, sport, dport, c_seq, 0, SYN, vlan=vlan)
        t += rtt
        self.tcp(t, server, client, dport, sport, s_seq, c_seq + 1, SYN | ACK, vlan=vlan)
        t += rtt
        c_seq += 1
        s_seq += 1
        self.tcp(t, client, server, sport, dport, c_seq, s_seq, ACK, vlan=vlan)
        for sender, size in ((client, request), (server, response)):
            sent = 0
            while sent < size:
                chunk = min(MSS, size - sent)
                t += gap
                if sender == client:
                    self.tcp(t, client, server, sport, dport, c_seq, s_seq, PSH | ACK, bytes(chunk), vlan)
                    c_seq += chunk
                else:
                    self.tcp(t, server, client, dport, sport, s_seq, c_seq, PSH | ACK, bytes(chunk), vlan)
                    s_seq += chunk
                sent += chunk
                if (sent // MSS) % 2 == 0 or sent >= size:   # delayed ACK: every 2nd segment
                    t += rtt / 2
                    if sender == client:
                        self.tcp(t, server, client, dport, sport, s_seq, c_seq, ACK, vlan=vlan)
                    else:
                        self.tcp(t, client, server, sport, dport, c_seq, s_seq, ACK, vlan=vlan)
        t += rtt
        self.tcp(t, client, server, sport, dport, c_seq, s_seq, FIN | ACK, vlan=vlan)
        t += rtt
        self.tcp(t, server, client, dport, sport, s_seq, c_seq + 1, FIN | ACK, vlan=vlan)
        t += rtt
        self.tcp(t, client, server, sport, dport, c_seq + 1, s_seq + 1, ACK, vlan=vlan)
        return t


def build(rng):
    tr = Trace(rng)
    eph = lambda: rng.randint(32768, 60999)  # noqa: E731 - Linux ephemeral port range
    # Bulk storage: NFS reads (ingestion) and one checkpoint write; S3 reads from the object store.
    for i, gpu in enumerate(GPU):
        tr.connection(T0 + 1 + i * 7.5, gpu, STORAGE, 700 + i, 2049, 2 * 1024, 180 * MSS)
    tr.connection(T0 + 40, GPU[0], STORAGE, 705, 2049, 120 * MSS, 512)
    for i, gpu in enumerate(GPU[:2]):
        tr.connection(T0 + 55 + i * 9, gpu, OBJECT_STORE, eph(), 443, 900, 110 * MSS)
    # Inference: many short HTTPS requests from outside clients.
    t = T0 + 2
    for _ in range(60):
        t += rng.uniform(0.5, 1.8)
        tr.connection(t, rng.choice(OUTSIDE), INFERENCE, eph(), 443, rng.randint(400, 1600),
                      rng.randint(1500, 6000), rtt=rng.uniform(0.01, 0.04))
    # SSH from outside: an interactive session with small segments both ways.
    tr.connection(T0 + 5, "192.0.2.44", "10.20.0.5", eph(), 22, 2600, 9000, rtt=0.03, gap=0.4)
    # A port probe: SYN -> RST|ACK on closed ports.
    scanner = "203.0.113.66"
    for j, port in enumerate((21, 23, 25, 80, 3306, 5432, 6379, 8080, 8443, 9200)):
        ts, sport = T0 + 70 + j * 0.05, 40000 + j
        tr.tcp(ts, scanner, INFERENCE, sport, port, 1000 + j, 0, SYN)
        tr.tcp(ts + 0.001, INFERENCE, scanner, port, sport, 0, 1001 + j, RST | ACK)
    # DNS: queries from GPU nodes (one 5-tuple per query, as stub resolvers do).
    for k in range(30):
        ts, gpu, qid = T0 + 3 + k * 3.1, GPU[k % len(GPU)], rng.getrandbits(16)
        sport = eph()
        q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + b"\x02s3\x07cluster\x05local\x00\x00\x01\x00\x01"
        tr.udp(ts, gpu, DNS, sport, 53, q)
        tr.udp(ts + 0.0008, DNS, gpu, 53, sport, q[:2] + b"\x81\x80" + q[4:] + bytes(16))
    # ICMP echo: GPU -> storage and an outside host pinging the gateway.
    for n in range(5):
        tr.icmp_echo(T0 + 20 + n, GPU[1], STORAGE, 0x4242, n + 1)
        tr.icmp_echo(T0 + 20.0002 + n, STORAGE, GPU[1], 0x4242, n + 1, reply=True)
        tr.icmp_echo(T0 + 30 + n, "198.51.100.99", INFERENCE, 0x0707, n + 1)
        tr.icmp_echo(T0 + 30.02 + n, INFERENCE, "198.51.100.99", 0x0707, n + 1, reply=True)
    # IPv6: NFS over v6, inference from a v6 client, DNS over v6, ICMPv6 echo.
    tr.connection(T0 + 12, V6_GPU, V6_STORAGE, 710, 2049, 1024, 40 * MSS)
    tr.connection(T0 + 33, V6_CLIENT, V6_INFERENCE, eph(), 443, 900, 4200, rtt=0.02)
    sport = eph()
    tr.udp(T0 + 44, V6_GPU, "2001:db8::53", sport, 53, bytes(40))
    tr.udp(T0 + 44.001, "2001:db8::53", V6_GPU, 53, sport, bytes(72))
    for n in range(3):
        tr.icmp_echo(T0 + 50 + n, V6_GPU, V6_STORAGE, 0x0606, n + 1)
        tr.icmp_echo(T0 + 50.0003 + n, V6_STORAGE, V6_GPU, 0x0606, n + 1, reply=True)
    # 802.1Q management VLAN: SNMP polls and a short SSH session to a BMC.
    for n in range(4):
        tr.udp(T0 + 60 + n * 10, MGMT, "10.99.0.21", 50161, 161, bytes(42), vlan=100)
        tr.udp(T0 + 60.003 + n * 10, "10.99.0.21", MGMT, 161, 50161, bytes(120), vlan=100)
    tr.connection(T0 + 90, MGMT, "10.99.0.21", 51022, 22, 1200, 2400, vlan=100)
    return tr


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))   # LINKTYPE_ETHERNET
        for t, _, frame in sorted(frames):
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    tr = build(random.Random(SEED))
    write_pcap(argv[1], tr.frames)
    print("%s: %d packets" % (argv[1], len(tr.frames)))


if __name__ == "__main__":
    main(sys.argv)
