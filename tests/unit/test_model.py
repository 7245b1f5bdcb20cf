from boundaryflow.model import Finding, Flow, envelope, flow_event, transport_name


def _flow(**kw):
    f = Flow()
    for k, v in kw.items():
        setattr(f, k, v)
    return f


def test_flow_event_cim_rules():
    f = _flow(src_ip="10.0.0.5", dest_ip="192.0.2.7", src_port=40000, dest_port=443, protocol_number=6,
              bytes_out=1000, packets_out=10, bytes_in=5000, packets_in=8, start=100.0, end=160.5,
              tcp_flags=0x1B, exporter="192.0.2.1")
    ev = flow_event(f)
    assert ev["src"] == ev["src_ip"] == "10.0.0.5" and ev["dest"] == ev["dest_ip"] == "192.0.2.7"
    assert ev["bytes"] == ev["bytes_in"] + ev["bytes_out"] == 6000
    assert ev["packets"] == 18
    assert ev["transport"] == "tcp" and ev["protocol"] == "ip" and ev["protocol_version"] == "ipv4"
    assert ev["tcp_flag"] == ["FIN", "SYN", "PSH", "ACK"]
    assert ev["app"] == "tcp/443" and ev["action"] == "allowed"
    assert ev["dvc"] == ev["dvc_ip"] == "192.0.2.1"
    assert ev["duration"] == 60.5


def test_icmp_and_other_protocols():
    ev = flow_event(_flow(protocol_number=58, ip_version=6, icmp_type=128, icmp_code=0))
    assert ev["protocol"] == "icmp" and ev["transport"] == "icmp" and ev["protocol_version"] == "ipv6"
    assert ev["icmp_type"] == 128 and ev["icmp_code"] == 0 and "tcp_flag" not in ev
    assert transport_name(47) == "gre" and transport_name(50) == "esp" and transport_name(253) == "253"


def test_swap_moves_every_per_end_field():
    f = _flow(src_ip="a", dest_ip="b", src_port=1, dest_port=2, bytes_out=3, packets_out=4, src_country="DE")
    f.swap()
    assert (f.src_ip, f.dest_ip, f.src_port, f.dest_port) == ("b", "a", 2, 1)
    assert (f.bytes_in, f.packets_in, f.bytes_out, f.packets_out) == (3, 4, 0, 0)
    assert f.dest_country == "DE" and f.src_country is None


def test_finding_event_is_intrusion_detection_shaped():
    ev = Finding(1.0, "exfil_burst", "BF-0001", "high", "exfiltration", "10.0.0.5", "203.0.113.9",
                 dest_port=443, dvc="192.0.2.1", evidence={"bytes": 5}).event()
    assert ev["action"] == "allowed" and ev["ids_type"] == "network" and ev["dvc"] == "192.0.2.1"
    assert ev["risk_object"] == "10.0.0.5"


def test_envelope_shape():
    env = envelope(12, "boundaryflow:flow", {"a": 1}, source="in", host="h")
    assert env == {"time": 12.0, "host": "h", "source": "in", "sourcetype": "boundaryflow:flow", "event": {"a": 1}}


def test_swap_moves_rare_per_end_fields_and_keeps_one_sided_ones_one_sided():
    from boundaryflow.model import _SWAP_PAIRS
    f = _flow(src_ip="a", dest_ip="b")
    for i, (a, b) in enumerate(_SWAP_PAIRS[4:]):
        setattr(f, a, "A%d" % i)           # only the src-side name is set
    f.vendor = {"x": 1}
    f.swap()
    for i, (a, b) in enumerate(_SWAP_PAIRS[4:]):
        assert getattr(f, b) == "A%d" % i, b
        assert a not in f.__dict__, a      # not copied to both ends
    assert f.vendor == {"x": 1} and (f.src_ip, f.dest_ip) == ("b", "a")
    f.swap()
    for i, (a, b) in enumerate(_SWAP_PAIRS[4:]):
        assert getattr(f, a) == "A%d" % i and b not in f.__dict__


def test_swap_leaves_a_reference_to_the_old_dict_unchanged():
    f = _flow(src_ip="a", dest_ip="b", bytes_out=5)
    old = f.__dict__
    f.swap()
    assert old["src_ip"] == "a" and old["bytes_out"] == 5 and f.bytes_in == 5
