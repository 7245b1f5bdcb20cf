"""Sampled packet headers (sFlow raw header records) -> flow attributes.

Ethernet II with any number of 802.1Q / 802.1ad tags, IPv4 and IPv6 (skipping the common
extension headers), then TCP/UDP ports and TCP flags or ICMP type/code. Headers are truncated by
the agent (128 bytes by default), so every step checks what is actually there.
"""
from __future__ import annotations

from . import values as V

HEADER_ETHERNET, HEADER_IPV4, HEADER_IPV6 = 1, 11, 12
_VLAN_TYPES = (0x8100, 0x88A8, 0x9100)
_IPV6_EXTENSIONS = (0, 43, 60)    # hop-by-hop, routing, destination options (fragment handled apart)
_FRAGMENT = 44
_PORT_PROTOCOLS = (6, 17, 132)    # tcp, udp, sctp
_ICMP = (1, 58)


def parse(header_protocol, h):
    """dict of Flow attributes, or None when no IP packet can be found in the header."""
    if header_protocol == HEADER_ETHERNET:
        return _ethernet(h)
    if header_protocol == HEADER_IPV4:
        return _ipv4(h, 0, {})
    if header_protocol == HEADER_IPV6:
        return _ipv6(h, 0, {})
    return None


def _ethernet(h):
    if len(h) < 14:
        return None
    pos, ethertype, out = 12, (h[12] << 8) | h[13], {}
    while ethertype in _VLAN_TYPES:
        if len(h) < pos + 6:
            return None
        if "vlan" not in out:
            out["vlan"] = ((h[pos + 2] << 8) | h[pos + 3]) & 0x0FFF
        pos += 4
        ethertype = (h[pos] << 8) | h[pos + 1]
    pos += 2
    if ethertype == 0x0800:
        return _ipv4(h, pos, out)
    if ethertype == 0x86DD:
        return _ipv6(h, pos, out)
    return None


def _ipv4(h, pos, out):
    if len(h) < pos + 20 or h[pos] >> 4 != 4:
        return None
    ihl = (h[pos] & 0x0F) * 4
    proto = h[pos + 9]
    out["ip_version"] = 4
    out["protocol_number"] = proto
    out["src_ip"] = V.ip4(bytes(h[pos + 12:pos + 16]))
    out["dest_ip"] = V.ip4(bytes(h[pos + 16:pos + 20]))
    fragment_offset = ((h[pos + 6] & 0x1F) << 8) | h[pos + 7]
    if fragment_offset == 0 and ihl >= 20:
        _transport(h, pos + ihl, proto, out)
    return out


def _ipv6(h, pos, out):
    if len(h) < pos + 40 or h[pos] >> 4 != 6:
        return None
    out["ip_version"] = 6
    out["src_ip"] = V.ip6(bytes(h[pos + 8:pos + 24]))
    out["dest_ip"] = V.ip6(bytes(h[pos + 24:pos + 40]))
    nxt, pos = h[pos + 6], pos + 40
    for _ in range(8):   # bounded walk over extension headers
        if nxt in _IPV6_EXTENSIONS and len(h) >= pos + 2:
            nxt, pos = h[pos], pos + (h[pos + 1] + 1) * 8
        elif nxt == _FRAGMENT and len(h) >= pos + 8:
            first = ((h[pos + 2] << 8) | h[pos + 3]) >> 3 == 0
            nxt, pos = h[pos], pos + 8
            if not first:
                out["protocol_number"] = nxt
                return out
        else:
            break
    out["protocol_number"] = nxt
    _transport(h, pos, nxt, out)
    return out


def _transport(h, pos, proto, out):
    if proto in _PORT_PROTOCOLS and len(h) >= pos + 4:
        out["src_port"] = (h[pos] << 8) | h[pos + 1]
        out["dest_port"] = (h[pos + 2] << 8) | h[pos + 3]
        if proto == 6 and len(h) >= pos + 14:
            out["tcp_flags"] = h[pos + 13]
    elif proto in _ICMP and len(h) >= pos + 2:
        out["icmp_type"] = h[pos]
        out["icmp_code"] = h[pos + 1]
