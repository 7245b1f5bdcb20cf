"""NetFlow v9 (RFC 3954): header, template and options-template flowsets."""
from __future__ import annotations

import struct

from . import sequence
from .errors import DecodeError
from .templated import decode_message

VERSION = "netflow9"
_HEADER = struct.Struct("!HHIIII")     # version, count, sysUptime ms, unix secs, sequence, source id
_HEADER_SIZE = _HEADER.size


def decode(data, state, arrival):
    if len(data) < _HEADER_SIZE:
        raise DecodeError("NetFlow v9 header truncated (%d bytes)" % len(data), VERSION)
    _v, _count, uptime, secs, seq, domain = _HEADER.unpack_from(data)
    flows, _records = decode_message(state, VERSION, domain, data, _HEADER_SIZE, len(data),
                                     float(secs), uptime, arrival, _TEMPLATE_SETS)
    # v9 numbers export packets; a sysUpTime that goes backwards is a restart
    state.sequences.check(state.counters, (VERSION, domain), seq, 1, sequence.PACKETS, uptime)
    return flows


def _templates(buf, pos, end, domain):
    out = []
    while end - pos >= 4:
        tid, count = struct.unpack_from("!HH", buf, pos)
        pos += 4
        if pos + 4 * count > end:
            raise DecodeError("template fields overrun the flowset", VERSION, domain, tid)
        fields = tuple((0, t, n) for t, n in struct.iter_unpack("!HH", buf[pos:pos + 4 * count]))
        pos += 4 * count
        if tid < 256 or count == 0:
            out.append(("rejected", tid, fields, 0))
            continue
        out.append(("data", tid, fields, 0))
    return out


def _options_templates(buf, pos, end, domain):
    out = []
    while end - pos >= 6:
        tid, scope_len, option_len = struct.unpack_from("!HHH", buf, pos)
        pos += 6
        if scope_len % 4 or option_len % 4 or pos + scope_len + option_len > end:
            raise DecodeError("options template lengths do not fit the flowset", VERSION, domain, tid)
        n = (scope_len + option_len) // 4
        fields = tuple((0, t, ln) for t, ln in struct.iter_unpack("!HH", buf[pos:pos + 4 * n]))
        pos += 4 * n
        if tid < 256 or not fields:
            out.append(("rejected", tid, fields, 0))
            continue
        out.append(("options", tid, fields, scope_len // 4))
        # the rest of the flowset may be padding to a 4-byte boundary
    return out


_TEMPLATE_SETS = {0: _templates, 1: _options_templates}
