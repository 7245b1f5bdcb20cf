"""Test-only builders of NetFlow v5/v9, IPFIX and sFlow v5 datagrams (written from the specs)."""
import socket
import struct

VARIABLE = 0xFFFF


def encode_value(length, value):
    """One field's bytes: ints big-endian, address strings packed, bytes/str as given."""
    if isinstance(value, str):
        try:
            raw = socket.inet_pton(socket.AF_INET6 if ":" in value else socket.AF_INET, value)
        except OSError:
            raw = value.encode("utf-8")
    elif isinstance(value, int):
        if length != VARIABLE:
            return value.to_bytes(length, "big")
        raw = value.to_bytes(4, "big")
    else:
        raw = bytes(value)
    if length == VARIABLE:
        if len(raw) < 255:
            return bytes([len(raw)]) + raw
        return b"\xff" + struct.pack("!H", len(raw)) + raw
    return raw[:length].ljust(length, b"\0")


def encode_record(fields, values):
    """fields: [(pen, id, length)] (or [(id, length)]), values: one per field."""
    out = b""
    for f, v in zip(fields, values):
        out += encode_value(f[-1], v)
    return out


def _pad4(b):
    return b + b"\0" * (-len(b) % 4)


# -- NetFlow v5 ------------------------------------------------------------------------------

V5_RECORD = struct.Struct("!4s4s4sHHIIIIHHxBBBHHBBxx")


def v5_record(src="10.0.0.1", dst="10.0.0.2", sport=1234, dport=80, proto=6, packets=10,
              octets=1000, first=1000, last=2000, flags=0x1B, input_if=1, output_if=2, tos=0):
    return V5_RECORD.pack(socket.inet_aton(src), socket.inet_aton(dst), b"\0" * 4, input_if,
                          output_if, packets, octets, first, last, sport, dport, flags, proto,
                          tos, 0, 0, 24, 24)


def v5(records, uptime=10000, secs=1700000000, nsecs=0, seq=0, engine_type=0, engine_id=0,
       sampling=0, count=None):
    header = struct.pack("!HHIIIIBBH", 5, len(records) if count is None else count, uptime, secs,
                         nsecs, seq, engine_type, engine_id, sampling)
    return header + b"".join(records)


# -- NetFlow v9 ------------------------------------------------------------------------------

def v9(flowsets, uptime=10000, secs=1700000000, seq=0, source_id=0, count=None):
    return struct.pack("!HHIIII", 9, len(flowsets) if count is None else count, uptime, secs, seq,
                       source_id) + b"".join(flowsets)


def v9_template_set(templates):
    """templates: [(template id, [(type, length), ...])]."""
    body = b""
    for tid, fields in templates:
        body += struct.pack("!HH", tid, len(fields))
        for f in fields:
            body += struct.pack("!HH", f[-2], f[-1])
    return struct.pack("!HH", 0, 4 + len(body)) + body


def v9_options_template_set(tid, scope_fields, option_fields):
    body = struct.pack("!HHH", tid, 4 * len(scope_fields), 4 * len(option_fields))
    for t, n in list(scope_fields) + list(option_fields):
        body += struct.pack("!HH", t, n)
    body = _pad4(struct.pack("!HH", 1, 0) + body)
    return struct.pack("!HH", 1, len(body)) + body[4:]


def data_set(set_id, records, pad=True):
    body = b"".join(records)
    if pad:
        body = _pad4(body)
    return struct.pack("!HH", set_id, 4 + len(body)) + body


# -- IPFIX -----------------------------------------------------------------------------------

def ipfix(sets, export_time=1700000000, seq=0, domain=0, length=None):
    body = b"".join(sets)
    total = 16 + len(body) if length is None else length
    return struct.pack("!HHIII", 10, total, export_time, seq, domain) + body


def _ipfix_fields(fields):
    out = b""
    for pen, eid, length in fields:
        if pen:
            out += struct.pack("!HHI", eid | 0x8000, length, pen)
        else:
            out += struct.pack("!HH", eid, length)
    return out


def ipfix_template_set(templates):
    """templates: [(template id, [(pen, id, length), ...])]."""
    body = b""
    for tid, fields in templates:
        body += struct.pack("!HH", tid, len(fields)) + _ipfix_fields(fields)
    return struct.pack("!HH", 2, 4 + len(body)) + body


def ipfix_options_template_set(tid, scope_fields, option_fields):
    fields = list(scope_fields) + list(option_fields)
    body = struct.pack("!HHH", tid, len(fields), len(scope_fields)) + _ipfix_fields(fields)
    body = _pad4(body)
    return struct.pack("!HH", 3, 4 + len(body)) + body


def ipfix_withdrawal(tid, options=False):
    return struct.pack("!HHHH", 3 if options else 2, 8, tid, 0)


# -- sFlow v5 --------------------------------------------------------------------------------

def ethernet_ipv4_tcp(src="10.0.0.1", dst="10.0.0.2", sport=40000, dport=443, flags=0x02,
                      vlan=None, proto=6, icmp=(8, 0)):
    if proto == 6:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 0, 0, 0x50, flags, 65535, 0, 0)
    elif proto == 17:
        l4 = struct.pack("!HHHH", sport, dport, 8, 0)
    else:
        l4 = struct.pack("!BBHI", icmp[0], icmp[1], 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    eth = b"\x00\x11\x22\x33\x44\x55" + b"\x66\x77\x88\x99\xaa\xbb"
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, vlan)
    return eth + struct.pack("!H", 0x0800) + ip + l4


def ethernet_ipv6_udp(src="2001:db8::1", dst="2001:db8::2", sport=5353, dport=53):
    l4 = struct.pack("!HHHH", sport, dport, 8, 0)
    ip = struct.pack("!IHBB16s16s", 0x60000000, len(l4), 17, 64,
                     socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst))
    return b"\x00" * 12 + struct.pack("!H", 0x86DD) + ip + l4


def sflow_raw_header_record(header, frame_length, protocol=1):
    body = struct.pack("!IIII", protocol, frame_length, 4, len(header)) + _pad4(header)
    return struct.pack("!II", 1, len(body)) + body


def sflow_switch_record(src_vlan, dst_vlan=0):
    body = struct.pack("!IIII", src_vlan, 0, dst_vlan, 0)
    return struct.pack("!II", 1001, len(body)) + body


def sflow_flow_sample(records, rate=512, seq=1, input_if=3, output_if=4, expanded=False):
    if expanded:
        body = struct.pack("!IIIIIIIIIII", seq, 0, 3, rate, rate * seq, 0, 0, input_if, 0,
                           output_if, len(records))
    else:
        body = struct.pack("!IIIIIIII", seq, 3, rate, rate * seq, 0, input_if, output_if,
                           len(records))
    body += b"".join(records)
    return struct.pack("!II", 3 if expanded else 1, len(body)) + body


def sflow_counter_sample(if_index=3, in_octets=1000, out_octets=2000, in_errors=0, seq=1):
    rec = struct.pack("!IIQIIQIIIIIIQIIIIII", if_index, 6, 10 ** 10, 1, 3, in_octets, 10, 0, 0,
                      0, in_errors, 0, out_octets, 20, 0, 0, 0, 0, 0)
    body = struct.pack("!III", seq, if_index, 1) + struct.pack("!II", 1, len(rec)) + rec
    return struct.pack("!II", 2, len(body)) + body


def sflow(samples, agent="192.0.2.1", sub_agent=0, seq=1, uptime=100000):
    if ":" in agent:
        addr = struct.pack("!I", 2) + socket.inet_pton(socket.AF_INET6, agent)
    else:
        addr = struct.pack("!I", 1) + socket.inet_aton(agent)
    return (struct.pack("!I", 5) + addr + struct.pack("!IIII", sub_agent, seq, uptime, len(samples))
            + b"".join(samples))
