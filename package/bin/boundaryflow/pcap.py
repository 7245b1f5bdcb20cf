"""Read UDP datagrams out of pcap and pcapng captures (for ``boundaryflow replay``).

Yields ``(arrival, exporter_ip, dst_port, payload)`` with the packet timestamp as arrival time, so a
replay goes through exactly the path a live datagram takes. Link types: Ethernet (with 802.1Q/QinQ),
Linux cooked v1/v2 (``tcpdump -i any``), raw IP, BSD loopback/null. IPv4 fragments are reassembled
(large sFlow/IPFIX datagrams over loopback often are not fragmented, but exports across a WAN are).
"""
from __future__ import annotations

import socket
import struct

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LOOP = 0, 1, 101, 108
LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_IPV4, LINKTYPE_IPV6 = 113, 276, 228, 229


class CaptureError(ValueError):
    """The file is not a readable pcap/pcapng capture."""


def read_udp(path):
    """Iterate UDP datagrams of a capture: (arrival, src_ip, dst_port, payload)."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
        fh.seek(0)
        if magic == b"\x0a\x0d\x0d\x0a":
            packets = _pcapng_packets(fh)
        elif magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
            packets = _pcap_packets(fh)
        else:
            raise CaptureError("%s: not a pcap or pcapng file" % path)
        frags = {}
        for ts, linktype, frame in packets:
            ip = _strip_link(linktype, frame)
            if ip is None:
                continue
            got = _udp(ip, frags)
            if got is not None:
                yield (ts,) + got


def _pcap_packets(fh):
    hdr = fh.read(24)
    if len(hdr) < 24:
        raise CaptureError("truncated pcap header")
    magic = hdr[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", hdr[20:24])[0] & 0x0FFFFFFF
    rec = struct.Struct(endian + "IIII")
    div = 1e9 if nano else 1e6
    while True:
        h = fh.read(16)
        if len(h) < 16:
            return
        sec, frac, caplen, _origlen = rec.unpack(h)
        data = fh.read(caplen)
        if len(data) < caplen:
            return
        yield sec + frac / div, linktype, data


def _pcapng_packets(fh):
    endian = "<"
    interfaces = []          # (linktype, ticks per second)
    while True:
        head = fh.read(8)
        if len(head) < 8:
            return
        btype = struct.unpack(endian + "I", head[:4])[0]
        if btype == 0x0A0D0D0A:   # section header: endianness from its byte-order magic
            bom = fh.read(4)
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            blen = struct.unpack(endian + "I", head[4:8])[0]
            fh.read(blen - 12)
            interfaces = []
            continue
        blen = struct.unpack(endian + "I", head[4:8])[0]
        if blen < 12:
            raise CaptureError("pcapng block with length %d" % blen)
        body = fh.read(blen - 8)
        if len(body) < blen - 8:
            return
        if btype == 1:            # interface description
            linktype = struct.unpack(endian + "H", body[:2])[0]
            interfaces.append((linktype, _if_tsresol(body[8:-4], endian)))
        elif btype == 6:          # enhanced packet
            ifid, th, tl, caplen = struct.unpack(endian + "IIII", body[:16])
            if ifid >= len(interfaces):
                continue
            linktype, tps = interfaces[ifid]
            yield ((th << 32) | tl) / tps, linktype, body[20:20 + caplen]
        elif btype == 3 and interfaces:   # simple packet: no timestamp
            yield 0.0, interfaces[0][0], body[4:]


def _if_tsresol(opts, endian):
    i = 0
    while i + 4 <= len(opts):
        code, length = struct.unpack(endian + "HH", opts[i:i + 4])
        if code == 0:
            break
        if code == 9 and length >= 1:
            v = opts[i + 4]
            return float(2 ** (v & 0x7F)) if v & 0x80 else float(10 ** v)
        i += 4 + ((length + 3) & ~3)
    return 1e6


def _strip_link(linktype, frame):
    if linktype == LINKTYPE_ETHERNET:
        off, etype = 12, None
        while off + 2 <= len(frame):
            etype = struct.unpack_from("!H", frame, off)[0]
            off += 2
            if etype in (0x8100, 0x88A8, 0x9100):
                off += 2
                continue
            break
        return frame[off:] if etype in (0x0800, 0x86DD) else None
    if linktype == LINKTYPE_LINUX_SLL:
        return frame[16:] if frame[14:16] in (b"\x08\x00", b"\x86\xdd") else None
    if linktype == LINKTYPE_LINUX_SLL2:
        return frame[20:] if frame[0:2] in (b"\x08\x00", b"\x86\xdd") else None
    if linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
        return frame
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        return frame[4:]
    return None


def _udp(ip, frags):
    if not ip:
        return None
    version = ip[0] >> 4
    if version == 4:
        if len(ip) < 20:
            return None
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack_from("!H", ip, 2)[0]
        ip = ip[:total] if total >= ihl else ip
        ident, fl = struct.unpack_from("!HH", ip, 4)
        more, offset = fl & 0x2000, (fl & 0x1FFF) * 8
        if ip[9] != 17:
            return None
        src = socket.inet_ntoa(ip[12:16])
        payload = ip[ihl:]
        if more or offset:
            key = (ip[12:20], ident)
            parts = frags.setdefault(key, {})
            parts[offset] = payload
            if not more:
                parts["end"] = offset + len(payload)
            whole = _reassemble(parts)
            if whole is None:
                if len(frags) > 1024:          # bound memory on lost fragments
                    frags.pop(next(iter(frags)))
                return None
            del frags[key]
            payload = whole
        if len(payload) < 8:
            return None
        dport, ulen = struct.unpack_from("!HH", payload, 2)
        return src, dport, payload[8:ulen] if ulen >= 8 else payload[8:]
    if version == 6:
        if len(ip) < 40:
            return None
        nxt, off = ip[6], 40
        while nxt in (0, 43, 60) and off + 8 <= len(ip):   # hop-by-hop, routing, dest options
            nxt, off = ip[off], off + (ip[off + 1] + 1) * 8
        if nxt != 17 or len(ip) < off + 8:
            return None
        src = socket.inet_ntop(socket.AF_INET6, ip[8:24])
        dport, ulen = struct.unpack_from("!HH", ip, off + 2)
        return src, dport, ip[off + 8:off + ulen] if ulen >= 8 else ip[off + 8:]
    return None


def _reassemble(parts):
    end = parts.get("end")
    if end is None:
        return None
    buf, pos = [], 0
    for off in sorted(k for k in parts if k != "end"):
        if off != pos:
            return None
        buf.append(parts[off])
        pos += len(parts[off])
    return b"".join(buf) if pos == end else None
