"""Records with IPFIX variable-length elements (RFC 7011 §7): generated readers for data
templates, and a field-by-field walk for the slow path (options records). Fixed-length data
templates never come here (one struct per set).
"""
from __future__ import annotations

import struct

from .errors import DecodeError

VARIABLE = 0xFFFF          # IPFIX variable-length marker


def walker_lines(analysed, ns):
    """Generated code that reads one record's fields at ``pos`` (templates with variable-length
    elements, RFC 7011 §7) into the analysed fields' variables, leaving ``pos`` after the record.

    Each run of fixed-length fields between variable-length ones is one ``unpack_from`` (skipped
    fields are pad bytes); a variable-length field is read inline. A field running past ``end``
    raises DecodeError, like :func:`walk_raw`. ``ns`` receives the names the code uses. The
    caller's loop guarantees the template's minimum length at ``pos``, so the first run needs no
    bounds check of its own.
    """
    ns["DecodeError"] = DecodeError
    lines, run, checked = [], [], True

    def flush():
        length = sum(f.length for f in run)
        if length:
            if not checked:
                lines.append("if pos + %d > end: raise DecodeError('record overruns its set')" % length)
            kept = [f.var for f in run if f.var is not None]
            if kept:
                name = "R%d" % len(ns)
                ns[name] = struct.Struct("!" + "".join(f.code for f in run)).unpack_from
                lines.append("%s, = %s(buf, pos)" % (", ".join(kept), name))
            lines.append("pos += %d" % length)
        del run[:]

    for f in analysed:
        if f.length != VARIABLE:
            run.append(f)
            continue
        flush()
        checked = False
        lines += [
            "if pos >= end: raise DecodeError('variable-length field overruns its set')",
            "vl = buf[pos]",
            "if vl < 255: pos += 1",
            "else: vl, pos = variable_length(buf, pos, end)",
            "if pos + vl > end: raise DecodeError('record overruns its set')",
        ]
        if f.var is not None:
            lines.append("%s = bytes(buf[pos:pos + vl])" % f.var)
        lines.append("pos += vl")
    flush()
    ns["variable_length"] = variable_length
    return lines


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
