"""IPFIX: variable-length and enterprise elements, RFC 5103 biflows, options, time forms."""
import struct

import pytest

import decode_builders as B
from boundaryflow.decode import ExporterState, decode
from boundaryflow.decode.values import NTP_EPOCH_OFFSET

V = B.VARIABLE
ADDR = [(0, 8, 4), (0, 12, 4), (0, 7, 2), (0, 11, 2), (0, 4, 1)]
ADDR_VALUES = ["10.0.0.1", "192.0.2.9", 40000, 443, 6]


def one(fields, values, state=None, arrival=1.0, **kw):
    st = state or ExporterState()
    data = B.ipfix([B.ipfix_template_set([(256, fields)]),
                    B.data_set(256, [B.encode_record(fields, values)])], **kw)
    flows = decode(data, st, arrival)
    assert len(flows) == 1
    return flows[0]


def test_absolute_millisecond_times_and_counters():
    f = one(ADDR + [(0, 1, 8), (0, 2, 8), (0, 152, 8), (0, 153, 8)],
            ADDR_VALUES + [123456, 99, 1700000000250, 1700000003750])
    assert (f.src_ip, f.dest_ip, f.src_port, f.dest_port) == ("10.0.0.1", "192.0.2.9", 40000, 443)
    assert (f.bytes_out, f.packets_out) == (123456, 99)
    assert f.start == pytest.approx(1700000000.25) and f.end == pytest.approx(1700000003.75)
    assert f.export_protocol == "ipfix"


@pytest.mark.parametrize("ids,encode", [
    ((150, 151), lambda t: int(t)),
    ((154, 155), lambda t: ((int(t) + NTP_EPOCH_OFFSET) << 32) | int((t % 1) * 2 ** 32)),
    ((156, 157), lambda t: ((int(t) + NTP_EPOCH_OFFSET) << 32) | int((t % 1) * 2 ** 32)),
])
def test_absolute_second_micro_nano_times(ids, encode):
    length = 4 if ids[0] == 150 else 8
    f = one(ADDR + [(0, ids[0], length), (0, ids[1], length)],
            ADDR_VALUES + [encode(1700000001.5 if length == 8 else 1700000001), encode(1700000009.25 if length == 8 else 1700000009)])
    if length == 8:
        assert f.start == pytest.approx(1700000001.5, abs=1e-6)
        assert f.end == pytest.approx(1700000009.25, abs=1e-6)
    else:
        assert (f.start, f.end) == (1700000001.0, 1700000009.0)


def test_delta_microseconds_relative_to_export_time():
    f = one(ADDR + [(0, 158, 4), (0, 159, 4)], ADDR_VALUES + [5000000, 1500000],
            export_time=1700000100)
    assert f.start == pytest.approx(1700000095.0) and f.end == pytest.approx(1700000098.5)


def test_sysuptime_form_with_system_init_time_from_options():
    st = ExporterState()
    init_ms = 1699990000000
    opt = B.ipfix_options_template_set(300, [(0, 149, 4)], [(0, 160, 8)])
    decode(B.ipfix([opt, B.data_set(300, [B.encode_record([(0, 149, 4), (0, 160, 8)], [0, init_ms])])]),
           st, 1.0)
    f = one(ADDR + [(0, 22, 4), (0, 21, 4)], ADDR_VALUES + [1000, 61000], state=st, seq=1)
    assert f.start == pytest.approx(1699990001.0) and f.end == pytest.approx(1699990061.0)


def test_sysuptime_form_with_init_time_in_record():
    f = one(ADDR + [(0, 160, 8), (0, 22, 4), (0, 21, 4)],
            ADDR_VALUES + [1699990000000, 2000, 4000])
    assert (f.start, f.end) == (pytest.approx(1699990002.0), pytest.approx(1699990004.0))


def test_no_time_in_record_uses_export_time_and_duration():
    f = one(ADDR + [(0, 161, 4)], ADDR_VALUES + [2500], export_time=1700000050)
    assert f.end == 1700000050.0 and f.start == pytest.approx(1700000047.5)


def test_variable_length_and_unknown_enterprise_elements_are_skipped_and_counted():
    st = ExporterState()
    fields = ADDR + [(43874, 9, V), (0, 1, 8), (43874, 10, 4), (0, 82, V), (0, 2, 4)]
    long_blob = b"x" * 300     # 3-byte length prefix form
    f = one(fields, ADDR_VALUES + [long_blob, 777, 5, b"eth0", 3], state=st)
    assert (f.bytes_out, f.packets_out) == (777, 3)
    assert st.counters["unknown_fields_skipped"] == 2


def test_zero_length_variable_field():
    f = one(ADDR + [(0, 96, V), (0, 1, 4)], ADDR_VALUES + [b"", 42])
    assert f.bytes_out == 42 and f.app is None


def test_rfc5103_biflow_reverse_counters_and_direction():
    fields = ADDR + [(0, 1, 8), (0, 2, 8), (29305, 1, 8), (29305, 2, 8), (0, 6, 2),
                     (29305, 6, 2), (0, 239, 1)]
    f = one(fields, ADDR_VALUES + [1000, 10, 50000, 40, 0x02, 0x12, 1])
    assert (f.bytes_out, f.packets_out, f.bytes_in, f.packets_in) == (1000, 10, 50000, 40)
    assert f.tcp_flags == 0x02 | 0x12
    assert f.initiator_known is True


def test_biflow_direction_reverse_initiator_swaps_ends():
    fields = ADDR + [(0, 1, 8), (29305, 1, 8), (0, 239, 1)]
    f = one(fields, ADDR_VALUES + [1000, 50000, 2])
    assert (f.src_ip, f.src_port, f.dest_ip, f.dest_port) == ("192.0.2.9", 443, "10.0.0.1", 40000)
    assert (f.bytes_out, f.bytes_in, f.initiator_known) == (50000, 1000, True)


@pytest.mark.parametrize("fields,values,proto", [
    ([(0, 8, 4), (0, 12, 4), (0, 4, 1), (0, 32, 2)], ["10.0.0.1", "10.0.0.2", 1, (11 << 8) | 0], 1),
    ([(0, 27, 16), (0, 28, 16), (0, 4, 1), (0, 139, 2)], ["2001:db8::1", "2001:db8::2", 58, (11 << 8)], 58),
    ([(0, 8, 4), (0, 12, 4), (0, 4, 1), (0, 176, 1), (0, 177, 1)], ["10.0.0.1", "10.0.0.2", 1, 11, 0], 1),
    ([(0, 27, 16), (0, 28, 16), (0, 4, 1), (0, 178, 1), (0, 179, 1)], ["::1", "::2", 58, 11, 0], 58),
])
def test_icmp_type_code_elements(fields, values, proto):
    f = one(fields, values)
    assert (f.protocol_number, f.icmp_type, f.icmp_code) == (proto, 11, 0)


def test_options_systematic_count_sampling_305_306():
    st = ExporterState()
    opt = B.ipfix_options_template_set(300, [(0, 149, 4)], [(0, 304, 2), (0, 305, 4), (0, 306, 4)])
    decode(B.ipfix([opt, B.data_set(300, [B.encode_record(
        [(0, 149, 4), (0, 304, 2), (0, 305, 4), (0, 306, 4)], [0, 1, 1, 99])])]), st, 1.0)
    f = one(ADDR + [(0, 1, 4), (0, 2, 4)], ADDR_VALUES + [100, 1], state=st, seq=1)
    assert (f.sampling_rate, f.bytes_out, f.packets_out) == (100, 10000, 100)


def test_options_selector_id_and_random_interval():
    st = ExporterState()
    opt = B.ipfix_options_template_set(300, [(0, 302, 8)], [(0, 50, 4)])
    decode(B.ipfix([opt, B.data_set(300, [B.encode_record([(0, 302, 8), (0, 50, 4)], [7, 2048])])]),
           st, 1.0)
    f = one(ADDR + [(0, 302, 8), (0, 1, 4)], ADDR_VALUES + [7, 3], state=st, seq=1)
    assert (f.sampling_rate, f.bytes_out) == (2048, 6144)


def test_interface_names_from_ipfix_options():
    st = ExporterState()
    opt = B.ipfix_options_template_set(300, [(0, 10, 4)], [(0, 82, V), (0, 83, V)])
    decode(B.ipfix([opt, B.data_set(300, [
        B.encode_record([(0, 10, 4), (0, 82, V), (0, 83, V)], [5, b"xe-0/0/5", b"to storage"])])]), st, 1.0)
    f = one(ADDR + [(0, 10, 4), (0, 14, 4)], ADDR_VALUES + [5, 6], state=st, seq=1)
    assert (f.input_if, f.input_if_name, f.output_if, f.output_if_name) == (5, "xe-0/0/5", 6, None)


def test_template_withdrawal():
    st = ExporterState()
    fields = ADDR
    decode(B.ipfix([B.ipfix_template_set([(256, fields)])]), st, 1.0)
    decode(B.ipfix([B.ipfix_withdrawal(256)]), st, 1.0)
    assert st.counters["templates_withdrawn"] == 1
    assert decode(B.ipfix([B.data_set(256, [B.encode_record(fields, ADDR_VALUES)])]), st, 1.0) == []
    assert st.counters["template_misses"] == 1
    decode(B.ipfix([B.ipfix_template_set([(256, fields), (257, fields)])]), st, 1.0)
    decode(B.ipfix([B.ipfix_withdrawal(2)]), st, 1.0)     # id 2 = all data templates
    assert not st.templates


def test_sequence_counts_missing_records():
    st = ExporterState()
    fields = ADDR
    r = B.encode_record(fields, ADDR_VALUES)
    decode(B.ipfix([B.ipfix_template_set([(256, fields)]), B.data_set(256, [r, r, r])], seq=0), st, 1.0)
    decode(B.ipfix([B.data_set(256, [r])], seq=3), st, 1.0)
    assert st.counters["sequence_gaps"] == 0
    decode(B.ipfix([B.data_set(256, [r])], seq=9), st, 1.0)
    assert st.counters["sequence_gaps"] == 5
    decode(B.ipfix([B.data_set(256, [r])], seq=0), st, 1.0)       # restart
    assert st.counters["sequence_resets"] == 1


def test_reduced_size_encoding_of_counters():
    f = one(ADDR + [(0, 1, 3), (0, 2, 2)], ADDR_VALUES + [0x010203, 7])
    assert (f.bytes_out, f.packets_out) == (0x010203, 7)


def test_padding_after_records_is_ignored():
    st = ExporterState()
    r = B.encode_record(ADDR, ADDR_VALUES)       # 13 bytes -> data_set pads to 4
    flows = decode(B.ipfix([B.ipfix_template_set([(256, ADDR)]), B.data_set(256, [r, r])]), st, 1.0)
    assert len(flows) == 2


def test_message_length_field_bounds_the_message():
    st = ExporterState()
    body = B.ipfix([B.ipfix_template_set([(256, ADDR)])])
    trailer = B.data_set(256, [B.encode_record(ADDR, ADDR_VALUES)])
    data = body + trailer          # header length excludes the trailer: trailer ignored
    assert decode(data, st, 1.0) == []
    assert struct.unpack("!H", data[2:4])[0] == len(body)


def test_records_without_addresses_are_counted_and_keep_sequence_right():
    st = ExporterState()
    fields = [(0, 1, 8), (0, 82, V)]
    recs = [B.encode_record(fields, [5, b"eth0"]), B.encode_record(fields, [6, b"eth10"])]
    assert decode(B.ipfix([B.ipfix_template_set([(256, fields)]), B.data_set(256, recs)], seq=0),
                  st, 1.0) == []
    assert st.counters["records_not_flows"] == 2
    decode(B.ipfix([B.data_set(256, recs[:1])], seq=2), st, 1.0)
    assert st.counters["sequence_gaps"] == 0


def test_sequence_numbered_after_the_message_is_learned_not_counted_as_loss():
    # softflowd's IPFIX sends the record count AFTER each message (RFC 7011: before)
    st = ExporterState()
    r = B.encode_record(ADDR, ADDR_VALUES)
    decode(B.ipfix([B.ipfix_template_set([(256, ADDR)]), B.data_set(256, [r] * 3)], seq=3), st, 1.0)
    seq = 3
    for n in (5, 2, 7, 4):
        seq += n
        decode(B.ipfix([B.data_set(256, [r] * n)], seq=seq), st, 1.0)
    assert st.counters["sequence_gaps"] == 0
    seq += 3 + 2          # 3 records lost, then a message of 2
    decode(B.ipfix([B.data_set(256, [r] * 2)], seq=seq), st, 1.0)
    assert st.counters["sequence_gaps"] == 3


def test_rfc_numbering_with_one_coincidence_stays_rfc():
    st = ExporterState()
    r = B.encode_record(ADDR, ADDR_VALUES)
    decode(B.ipfix([B.ipfix_template_set([(256, ADDR)]), B.data_set(256, [r] * 2)], seq=0), st, 1.0)
    decode(B.ipfix([B.data_set(256, [r] * 5)], seq=5), st, 1.0)    # 3 lost (also fits "after")
    decode(B.ipfix([B.data_set(256, [r] * 1)], seq=10), st, 1.0)   # RFC again
    decode(B.ipfix([B.data_set(256, [r] * 4)], seq=15), st, 1.0)   # 4 lost
    assert st.counters["sequence_gaps"] == 4


def test_integer_fields_longer_than_their_type_are_skipped_not_decoded():
    # Regression (found by the pipeline fuzzer): a 4-byte "unsigned16" port carried 70000, which no
    # port can be, and crashed the tracker's port table. Reduced-size encoding may only shorten a
    # field (RFC 7011 §6.2); a longer one is skipped by its length like an unknown element.
    fields = [(0, 8, 4), (0, 12, 4), (0, 7, 4), (0, 11, 2), (0, 4, 1), (0, 1, 8)]
    f = one(fields, ["10.0.0.1", "192.0.2.9", 70000, 443, 6, 500])
    assert f.src_port == 0 and f.dest_port == 443 and f.bytes_out == 500
    # shorter is fine: a 1-byte port
    g = one([(0, 8, 4), (0, 12, 4), (0, 7, 1), (0, 11, 2), (0, 4, 1)], ["10.0.0.1", "192.0.2.9", 200, 443, 6])
    assert g.src_port == 200


def test_oversized_ports_cannot_reach_the_rest_of_the_pipeline():
    from boundaryflow import config
    from boundaryflow.pipeline import Pipeline
    fields = [(0, 8, 4), (0, 12, 4), (0, 7, 8), (0, 11, 8), (0, 4, 1)]
    data = B.ipfix([B.ipfix_template_set([(256, fields)]),
                    B.data_set(256, [B.encode_record(fields, ["10.0.0.1", "192.0.2.9", 1 << 40, 99999, 6])])])

    import tempfile
    from list_sink import ListSink
    sink = ListSink()
    pipe = Pipeline(config.default(collector_state_dir=tempfile.mkdtemp(), reduction_mode="flow"), sink)
    pipe.handle_datagram(data, "192.0.2.1", 1.0)
    pipe.close(now=2.0)
    flows = [e["event"] for e in sink.events if e["sourcetype"] == "boundaryflow:flow"]
    assert len(flows) == 1 and all(0 <= flows[0][k] <= 65535 for k in ("src_port", "dest_port"))
