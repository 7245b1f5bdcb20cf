"""sFlow version 5 (sflow.org sflow_version_5.txt): flow samples and counter samples.

Flow samples become one Flow per sampled packet: bytes = frame length x sampling rate,
packets = sampling rate, time = arrival (sFlow carries no wall-clock time). Counter samples
(generic interface counters) go to ``state.sflow_counters`` for health events.
"""
from __future__ import annotations

import struct

from ..model import Flow
from . import packet, sequence
from . import values as V
from .errors import DecodeError

VERSION = "sflow5"
_U32 = struct.Struct("!I")
_FLOW_SAMPLE = struct.Struct("!IIIIIIII")             # seq, source id, rate, pool, drops, in, out, n
_FLOW_SAMPLE_EXPANDED = struct.Struct("!IIIIIIIIIII")   # seq, type, index, rate, pool, drops,
#                                                         in fmt, in, out fmt, out, n
_COUNTER_SAMPLE = struct.Struct("!III")
_COUNTER_SAMPLE_EXPANDED = struct.Struct("!IIII")
_RAW_HEADER = struct.Struct("!IIII")                  # protocol, frame length, stripped, length
_SAMPLED_IPV4 = struct.Struct("!II4s4sIIII")
_SAMPLED_IPV6 = struct.Struct("!II16s16sIIII")
_EXTENDED_SWITCH = struct.Struct("!IIII")
_GENERIC_IF = struct.Struct("!IIQIIQIIIIIIQIIIIII")
_GENERIC_IF_NAMES = (
    "ifIndex", "ifType", "ifSpeed", "ifDirection", "ifStatus", "ifInOctets", "ifInUcastPkts",
    "ifInMulticastPkts", "ifInBroadcastPkts", "ifInDiscards", "ifInErrors", "ifInUnknownProtos",
    "ifOutOctets", "ifOutUcastPkts", "ifOutMulticastPkts", "ifOutBroadcastPkts", "ifOutDiscards",
    "ifOutErrors", "ifPromiscuousMode")
MAX_SAMPLES = 1024
MAX_RECORDS = 64


def decode(data, state, arrival):
    n = len(data)
    if n < 28:
        raise DecodeError("sFlow header truncated (%d bytes)" % n, VERSION)
    addr_type = _U32.unpack_from(data, 4)[0]
    if addr_type == 1:
        agent, pos = V.ip4(bytes(data[8:12])), 12
    elif addr_type == 2:
        agent, pos = V.ip6(bytes(data[8:24])), 24
    else:
        raise DecodeError("sFlow agent address type %d" % addr_type, VERSION)
    if n < pos + 16:
        raise DecodeError("sFlow header truncated (%d bytes)" % n, VERSION)
    sub_agent, seq, uptime, count = struct.unpack_from("!IIII", data, pos)
    pos += 16
    if count > MAX_SAMPLES:
        raise DecodeError("sFlow datagram claims %d samples" % count, VERSION, sub_agent)
    samples = []
    for _ in range(count):
        if pos + 8 > n:
            raise DecodeError("sFlow sample header truncated", VERSION, sub_agent)
        fmt, length = struct.unpack_from("!II", data, pos)
        pos += 8
        if pos + length > n:
            raise DecodeError("sFlow sample length %d overruns the datagram" % length, VERSION, sub_agent)
        samples.append((fmt, pos, pos + length))
        pos += length

    flows = []
    counters = state.counters
    for fmt, start, end in samples:
        try:
            if fmt == 1 or fmt == 3:
                counters["sflow_flow_samples"] += 1
                flow = _flow_sample(data, start, end, fmt == 3, sub_agent, arrival, counters)
                if flow is not None:
                    flows.append(flow)
            elif fmt == 2 or fmt == 4:
                counters["sflow_counter_samples"] += 1
                _counter_sample(data, start, end, fmt == 4, agent, arrival, state)
        except (struct.error, IndexError):
            counters["malformed_sets"] += 1
    state.sequences.check(counters, (VERSION, agent, sub_agent), seq, 1, sequence.PACKETS, uptime)
    return flows


def _records(data, pos, end, count):
    if count > MAX_RECORDS:
        raise struct.error("too many records")
    for _ in range(count):
        fmt, length = struct.unpack_from("!II", data, pos)
        pos += 8
        if pos + length > end:
            raise struct.error("record overruns its sample")
        yield fmt, pos, pos + length
        pos += length


def _flow_sample(data, pos, end, expanded, sub_agent, arrival, counters):
    if expanded:
        (_seq, _stype, _sindex, rate, _pool, _drops, in_fmt, in_if, out_fmt, out_if,
         count) = _FLOW_SAMPLE_EXPANDED.unpack_from(data, pos)
        pos += _FLOW_SAMPLE_EXPANDED.size
    else:
        _seq, _source, rate, _pool, _drops, inp, outp, count = _FLOW_SAMPLE.unpack_from(data, pos)
        pos += _FLOW_SAMPLE.size
        in_fmt, in_if, out_fmt, out_if = inp >> 30, inp & 0x3FFFFFFF, outp >> 30, outp & 0x3FFFFFFF
    rate = rate or 1
    attrs, frame_length, vlan = None, 0, None
    for rfmt, rstart, rend in _records(data, pos, end, count):
        size = rend - rstart
        if rfmt == 1 and attrs is None and size >= _RAW_HEADER.size:
            proto, frame_length, _stripped, hlen = _RAW_HEADER.unpack_from(data, rstart)
            hstart = rstart + _RAW_HEADER.size
            header = data[hstart:min(hstart + hlen, rend)]
            attrs = packet.parse(proto, header)
            if attrs is None:
                counters["sflow_unparsed_headers"] += 1
        elif rfmt in (3, 4) and attrs is None and size >= (_SAMPLED_IPV4 if rfmt == 3 else _SAMPLED_IPV6).size:
            st = _SAMPLED_IPV4 if rfmt == 3 else _SAMPLED_IPV6
            length, proto, src, dst, sport, dport, flags, _tos = st.unpack_from(data, rstart)
            if sport > 0xFFFF or dport > 0xFFFF or proto > 0xFF:
                # 32-bit fields on the wire carrying values no port/protocol can have: the sample
                # is malformed (counted by the caller), never passed on
                raise struct.error("sampled_ipv%d record with port %d/%d, protocol %d"
                                   % (4 if rfmt == 3 else 6, sport, dport, proto))
            conv = V.ip4 if rfmt == 3 else V.ip6
            attrs = {"src_ip": conv(src), "dest_ip": conv(dst), "protocol_number": proto,
                     "ip_version": 4 if rfmt == 3 else 6, "src_port": sport, "dest_port": dport,
                     "tcp_flags": flags & 0xFF}
            frame_length = frame_length or length
        elif rfmt == 1001 and size >= _EXTENDED_SWITCH.size:
            src_vlan = _EXTENDED_SWITCH.unpack_from(data, rstart)[0]
            vlan = src_vlan or None
    if attrs is None:
        return None
    if attrs.get("protocol_number") in (1, 58):
        attrs.pop("src_port", None), attrs.pop("dest_port", None)
    d = {"export_protocol": VERSION, "observation_domain": sub_agent, "sampling_rate": rate,
         "bytes_out": frame_length * rate, "packets_out": rate, "start": arrival, "end": arrival}
    if in_fmt == 0:
        d["input_if"] = in_if
    if out_fmt == 0:
        d["output_if"] = out_if
    if vlan and "vlan" not in attrs:
        d["vlan"] = vlan
    d.update(attrs)
    flow = Flow.__new__(Flow)
    flow.__dict__ = d
    return flow


def _counter_sample(data, pos, end, expanded, agent, arrival, state):
    if expanded:
        count = _COUNTER_SAMPLE_EXPANDED.unpack_from(data, pos)[3]
        pos += _COUNTER_SAMPLE_EXPANDED.size
    else:
        count = _COUNTER_SAMPLE.unpack_from(data, pos)[2]
        pos += _COUNTER_SAMPLE.size
    for rfmt, rstart, rend in _records(data, pos, end, count):
        if rfmt == 1 and rend - rstart >= _GENERIC_IF.size:
            values = dict(zip(_GENERIC_IF_NAMES, _GENERIC_IF.unpack_from(data, rstart)))
            values["time"] = arrival
            state.store_sflow_counters((agent, values["ifIndex"]), values)
