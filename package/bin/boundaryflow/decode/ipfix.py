"""IPFIX (RFC 7011): message header, template / options template sets, withdrawals."""
from __future__ import annotations

import struct

from . import sequence
from .errors import DecodeError
from .templated import decode_message

VERSION = "ipfix"
_HEADER = struct.Struct("!HHIII")      # version, length, export time, sequence, domain
_HEADER_SIZE = _HEADER.size
_TEMPLATE_SET, _OPTIONS_SET = 2, 3


def decode(data, state, arrival):
    if len(data) < _HEADER_SIZE:
        raise DecodeError("IPFIX header truncated (%d bytes)" % len(data), VERSION)
    _v, length, export_time, seq, domain = _HEADER.unpack_from(data)
    if length < _HEADER_SIZE or length > len(data):
        raise DecodeError("IPFIX message length %d but %d bytes received" % (length, len(data)),
                          VERSION, domain)
    flows, records = decode_message(state, VERSION, domain, data, _HEADER_SIZE, length,
                                    float(export_time), None, arrival, _TEMPLATE_SETS)
    # IPFIX numbers data records (RFC 7011 §3.1)
    state.sequences.check(state.counters, (VERSION, domain), seq, records, sequence.RECORDS)
    return flows


def _fields(buf, pos, end, count, domain, tid):
    fields = []
    for _ in range(count):
        if pos + 4 > end:
            raise DecodeError("template fields overrun the set", VERSION, domain, tid)
        eid, length = struct.unpack_from("!HH", buf, pos)
        pos += 4
        pen = 0
        if eid & 0x8000:
            if pos + 4 > end:
                raise DecodeError("enterprise number overruns the set", VERSION, domain, tid)
            pen = struct.unpack_from("!I", buf, pos)[0]
            pos += 4
            eid &= 0x7FFF
        fields.append((pen, eid, length))
    return tuple(fields), pos


def _parse(buf, pos, end, domain, options):
    out = []
    kind = "options" if options else "data"
    header = 6 if options else 4
    while end - pos >= 4:
        tid, count = struct.unpack_from("!HH", buf, pos)
        if count == 0:
            # withdrawal (RFC 7011 §8.1): template id 2/3 withdraws all of that kind
            all_of_kind = tid == (_OPTIONS_SET if options else _TEMPLATE_SET)
            out.append(("withdraw", None if all_of_kind else tid, kind, 0))
            pos += 4
            continue
        if end - pos < header:
            raise DecodeError("template header overruns the set", VERSION, domain, tid)
        scope = struct.unpack_from("!H", buf, pos + 4)[0] if options else 0
        fields, pos = _fields(buf, pos + header, end, count, domain, tid)
        if tid < 256 or (options and not 1 <= scope <= count):
            out.append(("rejected", tid, fields, scope))
            continue
        out.append((kind, tid, fields, scope))
    return out


_TEMPLATE_SETS = {
    _TEMPLATE_SET: lambda buf, pos, end, domain: _parse(buf, pos, end, domain, False),
    _OPTIONS_SET: lambda buf, pos, end, domain: _parse(buf, pos, end, domain, True),
}
