"""NetFlow v9: templates per source id, held data, options (sampling, interface names), times."""
import pytest

import decode_builders as B
from boundaryflow.decode import ExporterState, decode

BASIC = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (1, 4), (2, 4), (10, 2), (14, 2),
         (22, 4), (21, 4)]


def rec(src="10.0.0.1", dst="10.0.0.2", sport=1000, dport=80, proto=6, flags=0x18, octets=500,
        packets=5, inp=1, out=2, first=1000, last=3000):
    return B.encode_record(BASIC, [src, dst, sport, dport, proto, flags, octets, packets, inp,
                                   out, first, last])


def test_template_then_data_with_sysuptime_times():
    st = ExporterState()
    data = B.v9([B.v9_template_set([(256, BASIC)]), B.data_set(256, [rec(), rec(sport=1001)])],
                uptime=10000, secs=1700000000)
    flows = decode(data, st, 5.0)
    assert [f.src_port for f in flows] == [1000, 1001]
    f = flows[0]
    assert f.export_protocol == "netflow9"
    assert f.end == pytest.approx(1700000000 - 7.0)
    assert f.start == pytest.approx(1700000000 - 9.0)
    assert f.duration == pytest.approx(2.0)


def test_uptime_rollover_between_record_and_export():
    st = ExporterState()
    data = B.v9([B.v9_template_set([(256, BASIC)]),
                 B.data_set(256, [rec(first=0xFFFFFC18, last=0xFFFFFFFF)])],
                uptime=999, secs=1700000000)
    (f,) = decode(data, st, 5.0)
    assert f.end == pytest.approx(1700000000 - 1.0)
    assert f.start == pytest.approx(1700000000 - 2.0)


def test_data_before_template_is_held_and_released():
    st = ExporterState()
    assert decode(B.v9([B.data_set(256, [rec(sport=1), rec(sport=2)])], seq=1), st, 1.0) == []
    assert st.pending_count() == 1 and st.counters["template_misses"] == 1
    flows = decode(B.v9([B.v9_template_set([(256, BASIC)])], seq=2), st, 2.0)
    assert [f.src_port for f in flows] == [1, 2]
    assert st.pending_count() == 0
    assert st.counters["pending_decoded"] == 1


def test_pending_is_bounded():
    st = ExporterState(max_pending=3)
    for i in range(10):
        decode(B.v9([B.data_set(300 + i, [rec()])], seq=i), st, 1.0)
    assert st.pending_count() == 3
    assert st.counters["pending_dropped"] == 7


def test_source_ids_do_not_share_templates():
    st = ExporterState()
    other = [(8, 4), (12, 4), (11, 2), (7, 2)]    # same id 256, different layout
    decode(B.v9([B.v9_template_set([(256, BASIC)])], source_id=1), st, 1.0)
    decode(B.v9([B.v9_template_set([(256, other)])], source_id=2), st, 1.0)
    (a,) = decode(B.v9([B.data_set(256, [rec(sport=1111, dport=22)])], source_id=1, seq=1), st, 1.0)
    (b,) = decode(B.v9([B.data_set(256, [B.encode_record(other, ["10.9.9.9", "10.8.8.8", 53, 4444])])],
                       source_id=2, seq=1), st, 1.0)
    assert (a.src_port, a.dest_port, a.observation_domain) == (1111, 22, 1)
    assert (b.src_ip, b.dest_port, b.src_port, b.observation_domain) == ("10.9.9.9", 53, 4444, 2)


def test_options_sampling_interval_scales_counters():
    st = ExporterState()
    opt = B.v9_options_template_set(257, [(1, 4)], [(34, 4), (35, 1)])
    data = B.v9([opt, B.v9_template_set([(256, BASIC)]),
                 B.data_set(257, [B.encode_record([(1, 4), (34, 4), (35, 1)], [0, 64, 1])])])
    decode(data, st, 1.0)
    (f,) = decode(B.v9([B.data_set(256, [rec(octets=100, packets=2)])], seq=1), st, 1.0)
    assert (f.bytes_out, f.packets_out, f.sampling_rate) == (6400, 128, 64)


def test_sampler_id_maps_to_its_own_rate():
    st = ExporterState()
    opt = B.v9_options_template_set(257, [(1, 4)], [(48, 1), (49, 1), (50, 4)])
    opt_data = B.data_set(257, [B.encode_record([(1, 4), (48, 1), (49, 1), (50, 4)], [0, 3, 2, 1000]),
                                B.encode_record([(1, 4), (48, 1), (49, 1), (50, 4)], [0, 4, 2, 10])])
    tpl = BASIC + [(48, 1)]
    decode(B.v9([opt, opt_data, B.v9_template_set([(256, tpl)])]), st, 1.0)
    r3 = B.encode_record(tpl, ["10.0.0.1", "10.0.0.2", 1, 2, 6, 0, 10, 1, 1, 2, 0, 0, 3])
    r4 = B.encode_record(tpl, ["10.0.0.1", "10.0.0.2", 1, 2, 6, 0, 10, 1, 1, 2, 0, 0, 4])
    a, b = decode(B.v9([B.data_set(256, [r3, r4])], seq=1), st, 1.0)
    assert (a.sampling_rate, a.bytes_out, b.sampling_rate, b.bytes_out) == (1000, 10000, 10, 100)


def test_sampling_interval_inside_the_record():
    st = ExporterState()
    tpl = BASIC + [(34, 4)]
    r = B.encode_record(tpl, ["10.0.0.1", "10.0.0.2", 1, 2, 17, 0, 10, 1, 1, 2, 0, 0, 50])
    (f,) = decode(B.v9([B.v9_template_set([(256, tpl)]), B.data_set(256, [r])]), st, 1.0)
    assert (f.sampling_rate, f.bytes_out, f.packets_out) == (50, 500, 50)


def test_interface_names_from_options():
    st = ExporterState()
    opt = B.v9_options_template_set(258, [(2, 4)], [(82, 16)])
    names = B.data_set(258, [B.encode_record([(2, 4), (82, 16)], [1, b"Gi0/1"]),
                             B.encode_record([(2, 4), (82, 16)], [2, b"Gi0/2-uplink"])])
    decode(B.v9([opt, names]), st, 1.0)
    (f,) = decode(B.v9([B.v9_template_set([(256, BASIC)]), B.data_set(256, [rec()])], seq=1), st, 1.0)
    assert (f.input_if_name, f.output_if_name) == ("Gi0/1", "Gi0/2-uplink")


def test_ipv6_record():
    st = ExporterState()
    tpl = [(27, 16), (28, 16), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4)]
    r = B.encode_record(tpl, ["2001:db8::1", "2001:db8:0:1::2", 40000, 443, 6, 1000, 10])
    (f,) = decode(B.v9([B.v9_template_set([(256, tpl)]), B.data_set(256, [r])]), st, 1.0)
    assert (f.src_ip, f.dest_ip, f.ip_version) == ("2001:db8::1", "2001:db8:0:1::2", 6)
    # no time field: event time falls back to the export time
    assert f.end == f.start == 1700000000.0


def test_mixed_v4_v6_template_picks_the_family_in_use():
    st = ExporterState()
    tpl = [(8, 4), (12, 4), (27, 16), (28, 16), (4, 1)]
    r6 = B.encode_record(tpl, ["0.0.0.0", "0.0.0.0", "2001:db8::1", "2001:db8::2", 17])
    r4 = B.encode_record(tpl, ["10.0.0.1", "10.0.0.2", "::", "::", 17])
    a, b = decode(B.v9([B.v9_template_set([(256, tpl)]), B.data_set(256, [r6, r4])]), st, 1.0)
    assert (a.src_ip, a.ip_version) == ("2001:db8::1", 6)
    assert (b.src_ip, b.ip_version) == ("10.0.0.1", 4)


def test_icmp_and_vlan():
    st = ExporterState()
    tpl = [(8, 4), (12, 4), (4, 1), (11, 2), (58, 2)]
    r = B.encode_record(tpl, ["10.0.0.1", "10.0.0.2", 1, (8 << 8) | 0, 42])
    (f,) = decode(B.v9([B.v9_template_set([(256, tpl)]), B.data_set(256, [r])]), st, 1.0)
    assert (f.icmp_type, f.icmp_code, f.dest_port, f.vlan) == (8, 0, 0, 42)


def test_sequence_gaps_count_packets_and_uptime_reset():
    st = ExporterState()
    tset = B.v9_template_set([(256, BASIC)])
    decode(B.v9([tset], seq=10, uptime=100000), st, 1.0)
    decode(B.v9([tset], seq=11, uptime=101000), st, 1.0)
    decode(B.v9([tset], seq=15, uptime=102000), st, 1.0)     # 3 packets lost
    assert st.counters["sequence_gaps"] == 3
    decode(B.v9([tset], seq=7, uptime=500), st, 1.0)         # uptime went back: restart
    assert st.counters["sequence_resets"] == 1
    assert st.counters["sequence_gaps"] == 3
    decode(B.v9([tset], seq=8, uptime=1500), st, 1.0)
    decode(B.v9([tset], seq=10, uptime=2500), st, 1.0)       # 1 lost
    decode(B.v9([tset], seq=9, uptime=2400), st, 1.0)        # ... arrived late: reordered
    assert st.counters["sequence_reordered"] == 1
    assert st.counters["sequence_gaps"] == 4


def test_contiguous_sequence_with_rewritten_uptime_is_not_a_restart():
    # nfreplay re-stamps sysUpTime per packet from the flows it replays
    st = ExporterState()
    tset = B.v9_template_set([(256, BASIC)])
    for seq, uptime in enumerate((90000000, 89936000, 89946000, 89900000)):
        decode(B.v9([tset], seq=seq, uptime=uptime), st, 1.0)
    assert st.counters["sequence_resets"] == 0 and st.counters["sequence_gaps"] == 0


def test_template_ttl_expires_by_arrival_time():
    st = ExporterState(template_ttl=60.0)
    decode(B.v9([B.v9_template_set([(256, BASIC)])]), st, 1000.0)
    assert len(decode(B.v9([B.data_set(256, [rec()])], seq=1), st, 1050.0)) == 1
    assert decode(B.v9([B.data_set(256, [rec()])], seq=2), st, 1200.0) == []
    assert st.counters["templates_expired"] == 1 and st.pending_count() == 1
