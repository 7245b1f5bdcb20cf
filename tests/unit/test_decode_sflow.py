"""sFlow v5: raw packet header flow samples (Ethernet/802.1Q/IPv4/IPv6), counters, sequences."""
import pytest

import decode_builders as B
from boundaryflow.decode import DecodeError, ExporterState, decode, detect_protocol


def test_flow_sample_ipv4_tcp_scaled_by_rate():
    st = ExporterState()
    hdr = B.ethernet_ipv4_tcp(src="10.1.0.5", dst="93.184.216.34", sport=51515, dport=443, flags=0x02)
    data = B.sflow([B.sflow_flow_sample([B.sflow_raw_header_record(hdr, 1514)], rate=400)])
    assert detect_protocol(data) == "sflow5"
    (f,) = decode(data, st, 1700000000.5)
    assert (f.src_ip, f.dest_ip, f.src_port, f.dest_port, f.protocol_number) == \
        ("10.1.0.5", "93.184.216.34", 51515, 443, 6)
    assert (f.bytes_out, f.packets_out, f.sampling_rate) == (1514 * 400, 400, 400)
    assert f.tcp_flags == 0x02 and (f.input_if, f.output_if) == (3, 4)
    assert f.start == f.end == 1700000000.5
    assert f.export_protocol == "sflow5"


def test_vlan_tag_and_expanded_sample():
    st = ExporterState()
    hdr = B.ethernet_ipv4_tcp(vlan=120, proto=17, sport=5000, dport=4791)
    data = B.sflow([B.sflow_flow_sample([B.sflow_raw_header_record(hdr, 1000)], rate=1, expanded=True)])
    (f,) = decode(data, st, 1.0)
    assert (f.vlan, f.protocol_number, f.dest_port, f.bytes_out) == (120, 17, 4791, 1000)


def test_ipv6_header_and_extended_switch_vlan():
    st = ExporterState()
    data = B.sflow([B.sflow_flow_sample([B.sflow_raw_header_record(B.ethernet_ipv6_udp(), 90),
                                         B.sflow_switch_record(33)], rate=10)], agent="2001:db8::99")
    (f,) = decode(data, st, 1.0)
    assert (f.src_ip, f.dest_ip, f.ip_version, f.dest_port, f.vlan) == \
        ("2001:db8::1", "2001:db8::2", 6, 53, 33)


def test_icmp_in_sampled_header():
    st = ExporterState()
    hdr = B.ethernet_ipv4_tcp(proto=1, icmp=(3, 13))
    (f,) = decode(B.sflow([B.sflow_flow_sample([B.sflow_raw_header_record(hdr, 70)])]), st, 1.0)
    assert (f.icmp_type, f.icmp_code, f.src_port, f.dest_port) == (3, 13, 0, 0)


def test_truncated_header_yields_addresses_only():
    st = ExporterState()
    hdr = B.ethernet_ipv4_tcp()[:34]       # Ethernet + IPv4, transport header cut off
    (f,) = decode(B.sflow([B.sflow_flow_sample([B.sflow_raw_header_record(hdr, 1500)])]), st, 1.0)
    assert (f.src_ip, f.src_port) == ("10.0.0.1", 0)


def test_non_ip_header_is_counted_not_fatal():
    st = ExporterState()
    arp = b"\xff" * 12 + b"\x08\x06" + b"\0" * 28
    assert decode(B.sflow([B.sflow_flow_sample([B.sflow_raw_header_record(arp, 60)])]), st, 1.0) == []
    assert st.counters["sflow_unparsed_headers"] == 1


def test_counter_samples_stored_per_agent_and_interface():
    st = ExporterState()
    data = B.sflow([B.sflow_counter_sample(if_index=7, in_octets=123, out_octets=456, in_errors=2)],
                   agent="192.0.2.50")
    assert decode(data, st, 42.0) == []
    c = st.sflow_counters[("192.0.2.50", 7)]
    assert (c["ifInOctets"], c["ifOutOctets"], c["ifInErrors"], c["time"]) == (123, 456, 2, 42.0)
    assert st.counters["sflow_counter_samples"] == 1


def test_datagram_sequence_gaps_per_agent_and_sub_agent():
    st = ExporterState()
    s = B.sflow_counter_sample()
    decode(B.sflow([s], seq=1, sub_agent=0), st, 1.0)
    decode(B.sflow([s], seq=1, sub_agent=1), st, 1.0)
    decode(B.sflow([s], seq=2, sub_agent=0), st, 1.0)
    decode(B.sflow([s], seq=5, sub_agent=0, uptime=101000), st, 1.0)
    assert st.counters["sequence_gaps"] == 2
    decode(B.sflow([s], seq=1, sub_agent=0, uptime=500), st, 1.0)     # agent rebooted
    assert st.counters["sequence_resets"] == 1


def test_sample_length_that_lies_raises():
    st = ExporterState()
    data = B.sflow([B.sflow_counter_sample()])
    with pytest.raises(DecodeError):
        decode(data[:-8], st, 1.0)
