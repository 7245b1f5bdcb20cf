"""Walking records field by field: IPFIX variable-length elements (RFC 7011 §7) and the slow
path for options records. Fixed-length data templates never come here (one struct per set).
"""
from __future__ import annotations

import struct

from .errors import DecodeError

VARIABLE = 0xFFFF          # IPFIX variable-length marker


def make_walker(analysed):
    """Per-record field walker for templates with variable-length elements (RFC 7011 §7)."""
    steps = []
    for f in analysed:
        unpack = None
        if f.var is not None and f.length != VARIABLE and f.kind in ("int", "ntp", "float"):
            unpack = struct.Struct("!" + f.code).unpack_from
        steps.append((f.length, f.var is not None, unpack))
    steps = tuple(steps)

    def walk(buf, pos, end):
        vals = []
        for length, keep, unpack in steps:
            if length == VARIABLE:
                length, pos = variable_length(buf, pos, end)
            nxt = pos + length
            if nxt > end:
                raise DecodeError("record overruns its set")
            if keep:
                vals.append(unpack(buf, pos)[0] if unpack else bytes(buf[pos:nxt]))
            pos = nxt
        return vals, pos

    return walk


def variable_length(buf, pos, end):
    """(length, position after the length prefix) of a variable-length field (RFC 7011 §7)."""
    if pos >= end:
        raise DecodeError("variable-length field overruns its set")
    length = buf[pos]
    if length < 255:
        return length, pos + 1
    if pos + 3 > end:
        raise DecodeError("variable-length field overruns its set")
    return (buf[pos + 1] << 8) | buf[pos + 2], pos + 3


def walk_raw(fields, buf, pos, end):
    """One record as a list of raw field bytes (options records: slow path, rare)."""
    vals = []
    for _pen, _eid, length in fields:
        if length == VARIABLE:
            length, pos = variable_length(buf, pos, end)
        if pos + length > end:
            raise DecodeError("record overruns its set")
        vals.append(bytes(buf[pos:pos + length]))
        pos += length
    return vals, pos
