import socket
import struct

import pytest

from boundaryflow import pcap


def _ipv4_udp(src, dst, sport, dport, payload, ident=1, frag=None):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    body = udp if frag is None else udp[frag[0]:frag[1]]
    flags = 0
    if frag is not None:
        flags = (frag[0] // 8) | (0x2000 if frag[2] else 0)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, flags, 64, 17, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr + body


def _ipv6_udp(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return struct.pack("!IHBB16s16s", 6 << 28, len(udp), 17, 64, socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + udp


def _eth(ip, vlan=None, v6=False):
    head = b"\x00\x11\x22\x33\x44\x55" + b"\x66\x77\x88\x99\xaa\xbb"
    if vlan is not None:
        head += struct.pack("!HH", 0x8100, vlan)
    return head + struct.pack("!H", 0x86DD if v6 else 0x0800) + ip


def _pcap(frames, linktype=1, nano=False):
    out = struct.pack("<IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for ts, frame in frames:
        frac = int(round((ts % 1) * (1e9 if nano else 1e6)))
        out += struct.pack("<IIII", int(ts), frac, len(frame), len(frame)) + frame
    return out


def _pcapng(frames, linktype=1):
    def block(btype, body):
        body += b"\x00" * (-len(body) % 4)
        return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", linktype, 0, 65535))
    for ts, frame in frames:
        t = int(ts * 1e6)
        out += block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(frame), len(frame)) + frame)
    return out


def _read(tmp_path, data):
    p = tmp_path / "c.pcap"
    p.write_bytes(data)
    return list(pcap.read_udp(str(p)))


def test_pcap_ethernet_vlan_and_ipv6(tmp_path):
    frames = [(1000.25, _eth(_ipv4_udp("192.0.2.1", "192.0.2.9", 5000, 2055, b"hello"))),
              (1001.5, _eth(_ipv4_udp("192.0.2.2", "192.0.2.9", 5000, 4739, b"tagged"), vlan=42)),
              (1002.0, _eth(_ipv6_udp("2001:db8::1", "2001:db8::9", 5000, 6343, b"six"), v6=True))]
    got = _read(tmp_path, _pcap(frames))
    assert got == [(1000.25, "192.0.2.1", 2055, b"hello"), (1001.5, "192.0.2.2", 4739, b"tagged"),
                   (1002.0, "2001:db8::1", 6343, b"six")]


def test_pcap_nanosecond_and_linux_cooked(tmp_path):
    sll = b"\x00\x00\x03\x04\x00\x06" + b"\x00" * 8 + b"\x08\x00"
    frames = [(5.000000001, sll + _ipv4_udp("198.51.100.1", "198.51.100.2", 1, 9995, b"x"))]
    got = _read(tmp_path, _pcap(frames, linktype=113, nano=True))
    assert got[0][1:] == ("198.51.100.1", 9995, b"x") and abs(got[0][0] - 5.000000001) < 1e-9


def test_pcapng(tmp_path):
    frames = [(1700000000.5, _eth(_ipv4_udp("192.0.2.1", "192.0.2.9", 5000, 2055, b"ng")))]
    assert _read(tmp_path, _pcapng(frames)) == [(1700000000.5, "192.0.2.1", 2055, b"ng")]


def test_ipv4_fragments_are_reassembled(tmp_path):
    payload = bytes(range(256)) * 12
    frames = [(1.0, _eth(_ipv4_udp("192.0.2.1", "192.0.2.9", 5000, 2055, payload, ident=7, frag=(0, 1480, True)))),
              (1.0, _eth(_ipv4_udp("192.0.2.1", "192.0.2.9", 5000, 2055, payload, ident=7, frag=(1480, 3080, False))))]
    got = _read(tmp_path, _pcap(frames))
    assert len(got) == 1 and got[0][3] == payload


def test_non_udp_and_garbage_frames_are_skipped(tmp_path):
    tcp = _ipv4_udp("192.0.2.1", "192.0.2.9", 1, 2, b"x")
    tcp = tcp[:9] + b"\x06" + tcp[10:]
    frames = [(1.0, _eth(tcp)), (2.0, b"\x00" * 5), (3.0, _eth(b"\x45"))]
    assert _read(tmp_path, _pcap(frames)) == []


def test_not_a_capture(tmp_path):
    p = tmp_path / "x.pcap"
    p.write_bytes(b"hello world")
    with pytest.raises(pcap.CaptureError):
        list(pcap.read_udp(str(p)))
