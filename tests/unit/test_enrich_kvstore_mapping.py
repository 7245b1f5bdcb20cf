"""KV store record mapping: ES ip_intel rows -> threat entries, identity rows -> time-valid users,
and the [enrichment] keys that turn the pulls on."""
from __future__ import annotations

import ipaddress

import pytest

from boundaryflow import config
from boundaryflow.enrich import kvstore
from boundaryflow.enrich.timed import value_at

T0 = 1767600000.0


def net(text):
    return ipaddress.ip_network(text)


def test_ip_intel_records_map_to_indicator_source_category_confidence():
    entries, bad, skipped = kvstore.threat_entries([
        {"_key": "k1", "ip": "198.51.100.7", "threat_key": "iblocklist_tor", "description": "Tor exit", "weight": 2},
        {"_key": "k2", "ip": "2001:db8:bad::/48", "threat_key": "local_ip_intel", "description": "", "weight": "3"},
        {"_key": "k3", "ip": " 192.0.2.0 - 192.0.2.255 ", "weight": None},
        {"_key": "k4", "ip": "", "domain": "evil.example", "threat_key": "x"},
        {"_key": "k5", "ip": "198.51.100.8", "threat_key": "x", "disabled": "1"},
        {"_key": "k6", "ip": "198.51.100.20-198.51.100.10"},
        {"_key": "k7", "ip": "192.0.2.1-2001:db8::1"},
        {"_key": "k8", "ip": "10.0.0.300"},
        "not a record",
    ])
    assert entries == [
        (net("198.51.100.7/32"), "iblocklist_tor", "Tor exit", 2.0),
        (net("2001:db8:bad::/48"), "local_ip_intel", None, 3.0),
        (net("192.0.2.0/24"), kvstore.DEFAULT_SOURCE, None, None),
    ]
    assert (bad, skipped) == (4, 2)


def test_a_range_becomes_the_smallest_set_of_cidrs():
    nets = kvstore.parse_indicator("10.0.0.1-10.0.0.6")
    assert nets == [net("10.0.0.1/32"), net("10.0.0.2/31"), net("10.0.0.4/31"), net("10.0.0.6/32")]
    assert kvstore.parse_indicator("10.0.0.0/33") == []


def test_identity_records_follow_the_csv_rules_with_typed_json_values():
    table, bad = kvstore.identity_table([
        {"ip": "10.1.1.1", "user": "alice", "start": T0, "end": T0 + 60.0},
        {"ip": "10.1.1.1", "user": "bob", "start": int(T0 + 60), "end": None},
        {"ip": "10.2.2.2", "user": "", "start": T0},
        {"ip": "10.3.3.3", "user": "eve", "start": "yesterday"},
        ["not", "a", "record"],
    ])
    assert bad == 3
    iv = table.get("10.1.1.1")
    assert value_at(iv, T0 + 30) == "alice" and value_at(iv, T0 + 10 ** 6) == "bob"
    assert value_at(iv, T0 - 1) is None


def test_kv_keys_default_to_es_ip_intel_and_refuse_plain_http_and_bad_names():
    en = config.default().enrichment
    assert (en.splunk_rest_url, en.kv_ip_intel, en.kv_identity, en.kv_poll_interval) == (
        "", "SA-ThreatIntelligence/ip_intel", "", 900.0)
    assert config.default(enrichment_splunk_rest_url="https://sh.example.com:8089/").enrichment.splunk_rest_url \
        == "https://sh.example.com:8089"
    with pytest.raises(config.ConfigError, match=r"\[enrichment\] splunk_rest_url: .*https"):
        config.default(enrichment_splunk_rest_url="http://sh.example.com:8089")
    with pytest.raises(config.ConfigError, match=r"\[enrichment\] kv_ip_intel: .*APP/NAME"):
        config.default(enrichment_kv_ip_intel="ip_intel")


def test_collections_are_polled_only_with_a_search_head_url(tmp_path):
    assert kvstore.configured_collections(config.default(str(tmp_path))) == []
    cfg = config.default(str(tmp_path), enrichment_splunk_rest_url="https://sh:8089",
                         enrichment_kv_identity="TA_boundaryflow/boundaryflow_identity")
    got = [(c.name, c.kind) for c in kvstore.configured_collections(cfg)]
    assert got == [("SA-ThreatIntelligence/ip_intel", "threat"), ("TA_boundaryflow/boundaryflow_identity", "identity")]
    cfg = config.default(str(tmp_path), enrichment_splunk_rest_url="https://sh:8089", enrichment_kv_ip_intel="")
    assert kvstore.configured_collections(cfg) == []
