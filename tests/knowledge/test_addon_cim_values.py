"""CIM VALUES of engine events, against pytest-splunk-addon 6.4.0's Network_Traffic and
Intrusion_Detection definitions and DESIGN.md §3 (pytest-splunk-addon itself only checks names).

Where the JSON definitions contradict the CIM documentation we test the documented meaning:
- Network_Traffic icmp_type's validity tests ``duration`` (``if(isnum(duration) and duration>0 and
  duration<254, icmp_type, null())``), a copy-paste slip; CIM documents icmp_type as the ICMP type
  number (0-255), which is what we check.
- bytes_in/bytes_out demand ``> 0``; a one-way flow (a UDP send, an unanswered SYN) legitimately
  has 0 bytes in one direction, so we require non-negative numbers and bytes = bytes_in + bytes_out.
- transport's expected values list only tcp/udp/icmp; CIM documents transport as the layer-4 or
  internet-layer protocol "in lower case", so GRE/ESP flows carry the IANA keyword.
"""
import ipaddress
import json
import os

import pytest

from boundaryflow.data import read_csv

IANA_KEYWORDS = {r["keyword"] for r in read_csv("ip_protocols.csv") if r.get("keyword")}
# Fields whose JSON expected_values are narrower than the CIM documentation (see module docstring).
DOCUMENTED_EXCEPTIONS = {"transport"}


def values(v):
    return v if isinstance(v, list) else [v]


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def test_there_is_enough_to_check(flows, findings):
    transports = {f["event"]["transport"] for f in flows}
    assert {"tcp", "udp", "icmp"} <= transports and transports - {"tcp", "udp", "icmp"}
    assert {f["event"]["protocol_version"] for f in flows} >= {"ipv4"}
    assert len(findings) >= 3


def test_flows_carry_every_required_network_traffic_field(flows, cim_models):
    required = [n for n, f in cim_models["Network_Traffic"].items() if n != "__tags__" and f.get("type") == "required"]
    for env in flows:
        ev = env["event"]
        missing = [n for n in required if ev.get(n) in (None, "", [])]
        assert not missing, (missing, ev)


def test_flow_values_are_allowed_values_of_the_cim_definition(flows, cim_models):
    model = cim_models["Network_Traffic"]
    for env in flows:
        ev = env["event"]
        for name, field in model.items():
            if name == "__tags__" or name in DOCUMENTED_EXCEPTIONS or not field.get("expected_values"):
                continue
            if name in ev:
                assert set(values(ev[name])) <= set(field["expected_values"]), (name, ev[name])


def test_flow_values_follow_the_design_rules(flows):
    for env in flows:
        ev = env["event"]
        assert ev["src_ip"] == ev["src"] and ev["dest_ip"] == ev["dest"]
        ipaddress.ip_address(ev["src"]), ipaddress.ip_address(ev["dest"]), ipaddress.ip_address(ev["dvc"])
        for n in ("bytes", "bytes_in", "bytes_out", "packets", "packets_in", "packets_out", "duration", "flow_count"):
            assert is_num(ev[n]) and ev[n] >= 0, (n, ev)
        assert ev["bytes"] == ev["bytes_in"] + ev["bytes_out"]
        assert ev["packets"] == ev["packets_in"] + ev["packets_out"]
        assert ev["bytes"] > 0 and ev["flow_count"] >= 1
        assert ev["action"] in ("allowed", "blocked", "teardown")
        assert ev["app"] and ev["app"] != "unknown"
        version = ipaddress.ip_address(ev["src"]).version
        assert ev["protocol_version"] == "ipv%d" % version
        if ev["transport"] == "icmp":
            assert ev["protocol"] == "icmp"
            assert is_num(ev["icmp_type"]) and 0 <= ev["icmp_type"] <= 255
            assert is_num(ev["icmp_code"]) and 0 <= ev["icmp_code"] <= 255
        else:
            assert ev["protocol"] == "ip"
            assert ev["transport"] in ("tcp", "udp") or ev["transport"] in IANA_KEYWORDS, ev["transport"]
            assert ev["transport"] == ev["transport"].lower()
        if ev["transport"] in ("tcp", "udp"):
            assert is_num(ev["src_port"]) and 0 <= ev["src_port"] <= 65535
            assert is_num(ev["dest_port"]) and 0 < ev["dest_port"] <= 65535
            if ev["app"] == "%s/%s" % (ev["transport"], ev["dest_port"]):
                pass                                   # the documented fallback name
        if "tcp_flag" in ev:
            assert ev["transport"] == "tcp" and isinstance(ev["tcp_flag"], list)
        if "direction" in ev:
            assert ev["direction"] in ("inbound", "outbound")
        if "cluster_direction" in ev:
            assert ev["cluster_direction"] in ("egress", "ingress", "internal")
        assert env["time"] >= ev["start_time"] - 0.001   # event time = the record's end
        assert abs(env["time"] - (ev["start_time"] + ev["duration"])) < 1.0


def test_icmp_type_and_code_come_from_the_exported_record(flows):
    icmp = {(f["event"]["src"], f["event"]["dest"]): f["event"] for f in flows if f["event"]["transport"] == "icmp"}
    echo = icmp.get(("10.1.0.5", "192.0.2.7"))
    unreachable = icmp.get(("10.1.0.5", "198.51.100.1"))
    assert unreachable and (unreachable["icmp_type"], unreachable["icmp_code"]) == (3, 3)
    # the echo request/reply pair is one connection (src = the pinging host) or two records
    assert echo and echo["icmp_type"] in (8, 0)


def test_findings_carry_every_required_intrusion_detection_field_with_allowed_values(findings, cim_models):
    model = cim_models["Intrusion_Detection"]
    for env in findings:
        ev = env["event"]
        for name, field in model.items():
            if name == "__tags__":
                continue
            if field.get("type") == "required":
                assert ev.get(name) not in (None, ""), (name, ev)
            if field.get("expected_values") and name in ev:
                assert set(values(ev[name])) <= set(field["expected_values"]), (name, ev[name])
        # ids_type=network: src and dest are conditional-required
        assert ev["ids_type"] == "network"
        ipaddress.ip_address(ev["src"]), ipaddress.ip_address(ev["dest"])
        assert ev["action"] == "allowed" and ev["dvc"]
        assert ev["signature_id"] and ev["vendor_product"] == "Boundary Flow"
        if "dest_port" in ev:
            assert is_num(ev["dest_port"]) and 0 < ev["dest_port"] <= 65535
        assert isinstance(ev["evidence"], dict)


def test_eventtypes_and_tags_put_events_in_the_models_the_json_names(cim_models):
    import configparser
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "package", "default")
    eventtypes, tags = configparser.ConfigParser(interpolation=None), configparser.ConfigParser(interpolation=None)
    eventtypes.read(os.path.join(root, "eventtypes.conf"))
    tags.read(os.path.join(root, "tags.conf"))
    expect = {"boundaryflow:flow": "Network_Traffic", "boundaryflow:finding": "Intrusion_Detection"}
    for sourcetype, model in expect.items():
        (eventtype,) = [s for s in eventtypes.sections() if eventtypes[s]["search"] == 'sourcetype="%s"' % sourcetype]
        enabled = {k for k, v in tags["eventtype=%s" % eventtype].items() if v == "enabled"}
        (model_tags,) = cim_models[model]["__tags__"]
        assert set(model_tags) <= enabled, (sourcetype, model_tags, enabled)
