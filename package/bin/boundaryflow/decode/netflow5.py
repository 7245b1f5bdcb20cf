"""NetFlow v5: fixed 24-byte header + 48-byte records.

The v5 record layout is expressed as a v9 template over IANA element ids, so v5 records go
through the same compiled converter (sysUptime times, ICMP convention, interfaces) as v9.
"""
from __future__ import annotations

import struct

from . import sequence
from .compiler import compile_template
from .errors import DecodeError

VERSION = "netflow5"
_HEADER = struct.Struct("!HHIIIIBBH")
RECORD_LENGTH = 48
# (enterprise, element id, length): srcaddr, dstaddr, nexthop, input, output, dPkts, dOctets,
# First, Last, srcport, dstport, pad1, tcp_flags, prot, tos, src_as, dst_as, src_mask,
# dst_mask, pad2
V5_FIELDS = ((0, 8, 4), (0, 12, 4), (0, 15, 4), (0, 10, 2), (0, 14, 2), (0, 2, 4), (0, 1, 4),
             (0, 22, 4), (0, 21, 4), (0, 7, 2), (0, 11, 2), (0, 210, 1), (0, 6, 1), (0, 4, 1),
             (0, 5, 1), (0, 16, 2), (0, 17, 2), (0, 9, 1), (0, 13, 1), (0, 210, 2))
_compiled = compile_template(VERSION, V5_FIELDS)


def decode(data, state, arrival):
    if len(data) < _HEADER.size:
        raise DecodeError("NetFlow v5 header truncated (%d bytes)" % len(data), VERSION)
    _v, count, uptime, secs, nsecs, seq, engine_type, engine_id, sampling = _HEADER.unpack_from(data)
    domain = (engine_type << 8) | engine_id
    end = _HEADER.size + count * RECORD_LENGTH
    if end > len(data):
        raise DecodeError("NetFlow v5 header says %d records but only %d bytes" % (count, len(data)),
                          VERSION, domain)
    opts = state.domain_options(VERSION, domain)
    rate = (sampling & 0x3FFF) or 1      # top 2 bits: sampling mode
    flows = _compiled.convert(data, _HEADER.size, end, secs + nsecs * 1e-9, uptime, rate, opts,
                              domain)
    # v5 numbers flows (records); a sysUpTime going backwards is a restart
    state.sequences.check(state.counters, (VERSION, domain), seq, count, sequence.RECORDS, uptime)
    return flows
