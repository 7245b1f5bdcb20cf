"""Property tests: mutated and random datagrams only ever raise DecodeError, state stays bounded.

Each hypothesis example decodes several datagrams; CASES counts every datagram decoded and the
last test checks (and prints) that the module ran at least 100,000 of them.
"""
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import decode_builders as B
from boundaryflow.decode import DecodeError, ExporterState, decode

CASES = [0]
MAX_TEMPLATES, MAX_PENDING = 32, 16
V = B.VARIABLE
V9_T = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (1, 4), (2, 4), (22, 4), (21, 4), (34, 4)]
V9_R = B.encode_record(V9_T, ["10.0.0.1", "10.0.0.2", 1, 2, 6, 2, 100, 1, 5, 9, 7])
IP_T = [(0, 27, 16), (0, 28, 16), (0, 4, 1), (0, 139, 2), (0, 96, V), (43874, 1, V), (29305, 1, 8),
        (0, 239, 1), (0, 153, 8), (0, 95, V)]
IP_R = B.encode_record(IP_T, ["2001:db8::1", "2001:db8::2", 58, 0x0300, b"app", b"zz", 5, 2, 1, b"\x0d\1"])

TEMPLATE_DATAGRAMS = [
    B.v9([B.v9_template_set([(256, V9_T)]),
          B.v9_options_template_set(257, [(1, 4)], [(34, 4), (82, 8)])], source_id=1),
    B.ipfix([B.ipfix_template_set([(256, IP_T)]),
             B.ipfix_options_template_set(257, [(0, 10, 4)], [(0, 82, V), (0, 160, 8)])], domain=1),
]
BASES = TEMPLATE_DATAGRAMS + [
    B.v5([B.v5_record(), B.v5_record(proto=1)]),
    B.v9([B.data_set(256, [V9_R, V9_R]),
          B.data_set(257, [B.encode_record([(1, 4), (34, 4), (82, 8)], [0, 10, b"eth0"])])],
         source_id=1, seq=1),
    B.v9([B.data_set(256, [V9_R]), B.v9_template_set([(256, V9_T)])], source_id=1, seq=2),
    B.ipfix([B.data_set(256, [IP_R, IP_R]),
             B.data_set(257, [B.encode_record([(0, 10, 4), (0, 82, V), (0, 160, 8)], [1, b"e", 5])])],
            domain=1, seq=1),
    B.ipfix([B.ipfix_withdrawal(256), B.data_set(256, [IP_R])], domain=1, seq=3),
    B.sflow([B.sflow_flow_sample([B.sflow_raw_header_record(B.ethernet_ipv4_tcp(vlan=5), 300),
                                  B.sflow_switch_record(5)]),
             B.sflow_flow_sample([B.sflow_raw_header_record(B.ethernet_ipv6_udp(), 90)], expanded=True),
             B.sflow_counter_sample()]),
]


def check(state, data, arrival=1.0):
    CASES[0] += 1
    try:
        flows = decode(data, state, arrival)
    except DecodeError:
        flows = []
    assert isinstance(flows, list)
    for f in flows:
        assert f.src_ip is None or isinstance(f.src_ip, str)
        assert isinstance(f.bytes_out, int) and isinstance(f.end, float)
    assert len(state.templates) <= MAX_TEMPLATES
    assert state.pending_count() <= MAX_PENDING
    assert len(state.sflow_counters) <= 4096


def fresh_state():
    st_ = ExporterState(max_templates=MAX_TEMPLATES, max_pending=MAX_PENDING, template_ttl=60.0)
    for d in TEMPLATE_DATAGRAMS:
        decode(d, st_, 1.0)
    return st_


def mutate(data, edits, cut):
    b = bytearray(data)
    for pos, value in edits:
        if b:
            b[pos % len(b)] = value
    if cut:
        b = b[:len(b) - cut % max(1, len(b))]
    return bytes(b)


FAST = dict(derandomize=True, database=None, deadline=None,
            suppress_health_check=list(HealthCheck))


@settings(max_examples=5500, **FAST)
@given(edits=st.lists(st.tuples(st.integers(0, 4095), st.integers(0, 255)), max_size=6),
       cut=st.integers(0, 64))
def test_mutated_valid_datagrams(edits, cut):
    state = fresh_state()
    for base in BASES:
        check(state, mutate(base, edits, 0))
        check(state, mutate(base, edits, cut + 1))
    # a good datagram still decodes after whatever came before
    check(state, BASES[3])


@settings(max_examples=4000, **FAST)
@given(head=st.sampled_from([b"\x00\x05", b"\x00\x09", b"\x00\x0a", b"\x00\x00\x00\x05"]),
       body=st.binary(max_size=400))
def test_random_bodies_after_a_version_field(head, body):
    state = fresh_state()
    check(state, head + body)
    check(state, head + body[:2] + struct.pack("!H", len(body) + 2) + body[4:])


FIELD = st.tuples(st.sampled_from([0, 0, 0, 29305, 9, 25461]),
                  st.sampled_from([1, 2, 4, 6, 7, 8, 11, 12, 21, 22, 27, 28, 32, 34, 48, 82, 95, 150,
                                   152, 153, 154, 158, 160, 161, 233, 239, 302, 305, 9999]),
                  st.sampled_from([0, 1, 2, 3, 4, 5, 8, 16, V]))


@settings(max_examples=3000, **FAST)
@given(fields=st.lists(FIELD, max_size=40), payload=st.binary(max_size=300),
       options=st.booleans())
def test_random_templates_with_random_data(fields, payload, options):
    state = fresh_state()
    if options and fields:
        tset = B.ipfix_options_template_set(300, fields[:1], fields[1:])
    else:
        tset = B.ipfix_template_set([(300, fields)])
    check(state, B.ipfix([tset, B.data_set(300, [payload], pad=False)], domain=5))
    check(state, B.ipfix([B.data_set(300, [payload[::-1]], pad=False)], domain=5, seq=9))
    v9_fields = [(f[1] | (0x8000 if f[0] else 0), f[2] if f[2] != V else 4) for f in fields]
    tset9 = (B.v9_options_template_set(300, v9_fields[:1], v9_fields[1:]) if options and v9_fields
             else B.v9_template_set([(300, v9_fields)]))
    check(state, B.v9([tset9, B.data_set(300, [payload])], source_id=5))
    state2 = ExporterState.from_dict(state.to_dict(), max_templates=MAX_TEMPLATES,
                                     max_pending=MAX_PENDING)
    check(state2, B.ipfix([B.data_set(300, [payload], pad=False)], domain=5, seq=20))


def test_fuzz_case_count():
    if CASES[0] == 0:
        pytest.skip("run the whole module to count fuzz cases")
    print("\ndecode fuzz cases: %d" % CASES[0])
    assert CASES[0] >= 100000
