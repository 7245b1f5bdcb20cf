"""NetFlow v5: header/record layout, sysUptime times, sampling, ICMP convention, sequences."""
import pytest

import decode_builders as B
from boundaryflow.decode import DecodeError, ExporterState, decode, detect_protocol


def test_v5_record_fields_and_times():
    st = ExporterState()
    data = B.v5([B.v5_record(src="192.0.2.1", dst="198.51.100.7", sport=51000, dport=443,
                             packets=12, octets=3400, first=4000, last=9000, flags=0x12,
                             input_if=7, output_if=9)],
                uptime=10000, secs=1700000000, nsecs=500000000)
    assert detect_protocol(data) == "netflow5"
    (f,) = decode(data, st, 1.0)
    assert (f.src_ip, f.dest_ip, f.src_port, f.dest_port, f.protocol_number) == \
        ("192.0.2.1", "198.51.100.7", 51000, 443, 6)
    assert (f.bytes_out, f.packets_out, f.bytes_in, f.packets_in) == (3400, 12, 0, 0)
    assert f.tcp_flags == 0x12 and f.input_if == 7 and f.output_if == 9
    assert f.export_protocol == "netflow5" and f.exporter is None
    # boot = export time - uptime; end = boot + last
    assert f.end == pytest.approx(1700000000.5 - 1.0)
    assert f.start == pytest.approx(1700000000.5 - 6.0)
    assert f.ip_version == 4


def test_v5_uptime_rollover():
    # uptime wrapped past 2^32 ms; the record's Last was stamped just before the wrap
    st = ExporterState()
    data = B.v5([B.v5_record(first=0xFFFFF000, last=0xFFFFFF00)], uptime=0x100, secs=1700000000)
    (f,) = decode(data, st, 1.0)
    assert f.end == pytest.approx(1700000000 - (0x100 + 0x100) / 1000.0)
    assert f.start == pytest.approx(1700000000 - (0x100 + 0x1000) / 1000.0)


def test_v5_sampling_interval_scales_counters():
    st = ExporterState()
    data = B.v5([B.v5_record(packets=3, octets=300)], sampling=(1 << 14) | 100)
    (f,) = decode(data, st, 1.0)
    assert (f.bytes_out, f.packets_out, f.sampling_rate) == (30000, 300, 100)


def test_v5_icmp_type_code_from_dest_port():
    st = ExporterState()
    (f,) = decode(B.v5([B.v5_record(proto=1, sport=0, dport=(3 << 8) | 1)]), st, 1.0)
    assert (f.icmp_type, f.icmp_code, f.dest_port) == (3, 1, 0)


def test_v5_count_beyond_data_is_an_error():
    st = ExporterState()
    with pytest.raises(DecodeError) as e:
        decode(B.v5([B.v5_record()], count=2), st, 1.0)
    assert "netflow5" in str(e.value)
    assert st.counters["decode_errors"] == 1


def test_v5_sequence_counts_missing_records_and_restarts():
    st = ExporterState()
    rec = B.v5_record()
    decode(B.v5([rec] * 2, seq=100, uptime=50000), st, 1.0)
    decode(B.v5([rec] * 2, seq=102, uptime=51000), st, 2.0)   # contiguous
    assert st.counters["sequence_gaps"] == 0
    decode(B.v5([rec] * 2, seq=110, uptime=52000), st, 3.0)   # 6 records lost
    assert st.counters["sequence_gaps"] == 6
    decode(B.v5([rec] * 2, seq=0, uptime=1000), st, 4.0)      # exporter restarted
    assert st.counters["sequence_resets"] == 1
    assert st.counters["sequence_gaps"] == 6
    decode(B.v5([rec] * 2, seq=2, uptime=2000), st, 5.0)
    assert st.counters["sequence_gaps"] == 6


def test_v5_engines_are_separate_sequence_domains():
    st = ExporterState()
    rec = B.v5_record()
    decode(B.v5([rec], seq=10, engine_id=1), st, 1.0)
    decode(B.v5([rec], seq=500, engine_id=2), st, 1.0)
    decode(B.v5([rec], seq=11, engine_id=1), st, 1.0)
    decode(B.v5([rec], seq=501, engine_id=2), st, 1.0)
    assert st.counters["sequence_gaps"] == 0
