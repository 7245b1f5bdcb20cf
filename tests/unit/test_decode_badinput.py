"""Bad input: every malformed datagram raises DecodeError or is counted, never anything else."""
import random
import struct

import pytest

import decode_builders as B
from boundaryflow.decode import DecodeError, ExporterState, decode, detect_protocol

BASIC = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4)]
REC = B.encode_record(BASIC, ["10.0.0.1", "10.0.0.2", 1, 2, 6, 100, 1])
IPFIX_BASIC = [(0, t, n) for t, n in BASIC]


def good_datagrams():
    return [
        B.v5([B.v5_record()] * 3),
        B.v9([B.v9_template_set([(256, BASIC)]), B.data_set(256, [REC, REC])]),
        B.ipfix([B.ipfix_template_set([(256, IPFIX_BASIC + [(0, 82, B.VARIABLE)])]),
                 B.data_set(256, [REC + b"\x03abc"])]),
        B.sflow([B.sflow_flow_sample([B.sflow_raw_header_record(B.ethernet_ipv4_tcp(), 100)]),
                 B.sflow_counter_sample()]),
    ]


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x00\x05", b"\x00\x07" + b"\0" * 40,
                                  b"\xff" * 100, b"\x00\x00\x00\x06" + b"\0" * 40])
def test_unknown_or_tiny_datagrams(data):
    st = ExporterState()
    with pytest.raises(DecodeError):
        decode(data, st, 1.0)
    assert st.counters["decode_errors"] == 1


def test_every_truncation_of_valid_datagrams():
    for good in good_datagrams():
        st = ExporterState()
        for cut in range(len(good)):
            try:
                decode(good[:cut], st, 1.0)
            except DecodeError:
                pass
        assert len(st.templates) <= 2


def test_set_length_that_lies():
    st = ExporterState()
    data = bytearray(B.v9([B.v9_template_set([(256, BASIC)]), B.data_set(256, [REC])]))
    struct.pack_into("!H", data, 20 + 2, 3)            # flowset length below its own header
    with pytest.raises(DecodeError) as e:
        decode(bytes(data), st, 1.0)
    assert "netflow9" in str(e.value)
    data = bytearray(B.ipfix([B.data_set(256, [REC])], domain=42))
    struct.pack_into("!H", data, 16 + 2, 4000)         # longer than the message
    with pytest.raises(DecodeError) as e:
        decode(bytes(data), st, 1.0)
    assert "domain=42" in str(e.value) and "template=256" in str(e.value)
    assert st.templates == {}                          # nothing half-applied


def test_ipfix_length_longer_than_datagram():
    st = ExporterState()
    with pytest.raises(DecodeError):
        decode(B.ipfix([B.ipfix_template_set([(256, IPFIX_BASIC)])], length=500), st, 1.0)


def test_template_with_zero_fields_is_rejected_and_counted():
    st = ExporterState()
    decode(B.v9([B.v9_template_set([(256, [])])]), st, 1.0)
    assert st.counters["templates_rejected"] == 1 and not st.templates


def test_template_with_zero_length_fields_is_rejected():
    st = ExporterState()
    decode(B.v9([B.v9_template_set([(256, [(8, 0), (12, 0)])])]), st, 1.0)
    assert st.counters["templates_rejected"] == 1
    # and data for it is held, not looped over forever
    decode(B.v9([B.data_set(256, [b"\0" * 16])], seq=1), st, 1.0)
    assert st.pending_count() == 1


def test_zero_length_known_field_inside_a_valid_template():
    st = ExporterState()
    tpl = BASIC + [(82, 0), (34, 0)]
    (f,) = decode(B.v9([B.v9_template_set([(256, tpl)]), B.data_set(256, [REC])]), st, 1.0)
    assert f.src_ip == "10.0.0.1" and f.sampling_rate == 1


def test_template_with_1000_fields_is_rejected_not_compiled():
    st = ExporterState()
    tpl = [(1, 4)] * 1000
    data = B.v9([B.v9_template_set([(256, tpl)])])
    decode(data, st, 1.0)
    assert st.counters["templates_rejected"] == 1
    ipfix = B.ipfix([B.ipfix_template_set([(256, [(9, 1, 1)] * 1000)])])
    decode(ipfix, st, 1.0)
    assert st.counters["templates_rejected"] == 2 and not st.templates


def test_template_field_count_that_lies():
    st = ExporterState()
    body = struct.pack("!HH", 256, 50) + struct.pack("!HH", 8, 4)
    data = B.v9([struct.pack("!HH", 0, 4 + len(body)) + body])
    with pytest.raises(DecodeError) as e:
        decode(data, st, 1.0)
    assert "template=256" in str(e.value)


def test_variable_length_field_overrunning_its_set_is_counted():
    st = ExporterState()
    tpl = IPFIX_BASIC + [(0, 82, B.VARIABLE)]
    rec = REC + b"\xff\x10\x00" + b"a" * 5           # claims 4096 bytes
    flows = decode(B.ipfix([B.ipfix_template_set([(256, tpl)]), B.data_set(256, [rec], pad=False)]),
                   st, 1.0)
    assert flows == [] and st.counters["malformed_sets"] == 1


def test_templates_of_one_exporter_never_touch_another():
    a, b = ExporterState(), ExporterState()
    decode(B.v9([B.v9_template_set([(256, BASIC)])]), a, 1.0)
    rng = random.Random(1)
    for _ in range(300):
        junk = B.v9([B.v9_template_set([(256, [(rng.randrange(1, 400), rng.randrange(0, 9))
                                              for _ in range(rng.randrange(0, 6))])])])
        try:
            decode(junk, b, 1.0)
        except DecodeError:
            pass
    (f,) = decode(B.v9([B.data_set(256, [REC])], seq=1), a, 1.0)
    assert f.src_ip == "10.0.0.1"


def test_random_bytes_with_valid_version_fields():
    rng = random.Random(7)
    st = ExporterState(max_templates=64, max_pending=32)
    for i in range(3000):
        head = rng.choice([b"\x00\x05", b"\x00\x09", b"\x00\x0a", b"\x00\x00\x00\x05"])
        data = head + rng.randbytes(rng.randrange(0, 300))
        assert detect_protocol(data) is not None or len(data) < 4
        try:
            decode(data, st, float(i))
        except DecodeError:
            pass
    assert len(st.templates) <= 64 and st.pending_count() <= 32


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
def test_bytes_like_inputs_decode_the_same(wrap):
    ref, got = ExporterState(), ExporterState()
    for data in good_datagrams():
        a = [f.__dict__ for f in decode(data, ref, 1.0)]
        b = [f.__dict__ for f in decode(wrap(bytearray(data)), got, 1.0)]
        assert a == b and a
