"""Raw field bytes -> Python values (addresses as text, strings, NTP times).

Addresses repeat a lot inside an export stream, so their text form is cached (bounded: the cache
is simply cleared when it grows past its limit).
"""
from __future__ import annotations

import socket

_CACHE_LIMIT = 65536
_ntoa = socket.inet_ntoa       # IPv4 only, faster than inet_ntop(AF_INET, ...)
NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01


class _AddressCache(dict):
    """raw address bytes -> text; ``cache[raw]`` is a plain dict hit, a miss converts and stores."""

    def __init__(self, family):
        dict.__init__(self)
        self.family = family

    def __missing__(self, raw):
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        text = self[raw] = socket.inet_ntop(self.family, raw)
        return text


class _IntV4Cache(dict):
    """IPv4 address as an unsigned 32-bit integer -> text (how compiled templates unpack them:
    an int key hashes faster than a 4-byte string)."""

    def __missing__(self, value):
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        text = self[value] = _ntoa(value.to_bytes(4, "big"))
        return text


V4I = _IntV4Cache()
V6 = _AddressCache(socket.AF_INET6)


def ip4(raw):
    """Text of a 4-byte IPv4 address (the cache the compiled templates use)."""
    return V4I[int.from_bytes(raw, "big")]


def ip6(raw):
    return V6[raw]


def mac(raw):
    return ":".join("%02x" % b for b in raw)


def text(raw):
    """An IPFIX string (UTF-8, often NUL-padded to a fixed length by v9 exporters)."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def hexstr(raw):
    return raw.hex()


def ntp_time(value):
    """IPFIX dateTimeMicroseconds/Nanoseconds (NTP 64-bit: seconds since 1900 . fraction)."""
    return (value >> 32) - NTP_EPOCH_OFFSET + (value & 0xFFFFFFFF) / 4294967296.0


def uint(raw):
    return int.from_bytes(raw, "big")


def app_id_text(raw):
    """RFC 6759 applicationId: 1 byte classification engine id + selector id."""
    if not raw:
        return "nbar:0"
    return "nbar:%d:%d" % (raw[0], int.from_bytes(raw[1:], "big"))
