"""Threat feed parsers on real-format samples (Spamhaus DROP, abuse.ch CSV, STIX 2.1), including
malformed lines, and file feeds through the Enricher."""
from __future__ import annotations

import ipaddress
import json
import os

import pytest

from boundaryflow import config
from boundaryflow.enrich import Enricher
from boundaryflow.enrich.feed_parsers import parse_csv, parse_iplist, parse_stix, stix_pattern_networks
from boundaryflow.model import Flow

N = ipaddress.ip_network

SPAMHAUS_DROP = """\
; Spamhaus DROP List 2026/01/05 - (c) 2026 The Spamhaus Project SLU
; https://www.spamhaus.org/drop/drop.txt
; Last-Modified: Mon, 05 Jan 2026 10:20:00 GMT
; Expires: Mon, 05 Jan 2026 11:20:00 GMT
1.10.16.0/20 ; SBL256894
1.19.0.0/16 ; SBL434604
2.56.192.0/22 ; SBL459831
300.1.2.0/24 ; SBL000001
not an address
2001:db8:dead::/48 ; SBLV6
"""

FEODO_CSV = """\
################################################################
# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)          #
# Last updated: 2026-01-05 10:05:41 UTC                        #
#                                                              #
# Terms Of Use: https://abuse.ch/terms-of-use/                 #
# For questions please contact feodotracker [at] abuse.ch      #
################################################################
#
# "first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"
"2025-11-02 07:44:46","51.178.161.32","4643","online","2026-01-05","Dridex"
"2025-12-01 10:01:02","162.243.103.246","8080","offline","2025-12-30","Emotet"
"2025-12-03 11:11:11","not-an-ip","443","online","2026-01-05","QakBot"
"2025-12-04 12:12:12"
"""

THREATFOX_CSV = """\
# ThreatFox IOCs: CSV export
"first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type"
"2026-01-05 09:00:00","1","203.0.113.10:443","ip:port","botnet_cc"
"2026-01-05 09:00:01","2","[2001:db8::10]:8443","ip:port","botnet_cc"
"""


def test_spamhaus_drop():
    r = parse_iplist(SPAMHAUS_DROP)
    assert [n for n, _ in r.indicators] == [N("1.10.16.0/20"), N("1.19.0.0/16"), N("2.56.192.0/22"),
                                            N("2001:db8:dead::/48")]
    assert r.indicators[0][1] == "SBL256894"
    assert r.bad_lines == 2


def test_plain_list_with_hash_comments_and_single_addresses():
    r = parse_iplist("# firehol style\n192.0.2.1\n198.51.100.0/24 # note\n\n2001:db8::1\n")
    assert [str(n) for n, _ in r.indicators] == ["192.0.2.1/32", "198.51.100.0/24", "2001:db8::1/128"]
    assert r.bad_lines == 0


def test_abuse_ch_csv_header_in_comment():
    r = parse_csv(FEODO_CSV, "dst_ip")
    assert [str(n.network_address) for n, _ in r.indicators] == ["51.178.161.32", "162.243.103.246"]
    assert r.bad_lines == 2          # bad address + short row


def test_csv_plain_header_ip_port_values_and_numeric_column():
    r = parse_csv(THREATFOX_CSV, "ioc_value")
    assert [str(n.network_address) for n, _ in r.indicators] == ["203.0.113.10", "2001:db8::10"]
    r = parse_csv("192.0.2.5,x\n192.0.2.6,y\n", "1")
    assert len(r.indicators) == 2
    with pytest.raises(ValueError, match="column 'nope'"):
        parse_csv(FEODO_CSV, "nope")


def _indicator(pattern, **kw):
    obj = {"type": "indicator", "spec_version": "2.1", "id": "indicator--%032x" % abs(hash(pattern)),
           "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
           "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
           "indicator_types": ["malicious-activity"], "name": "test"}
    obj.update(kw)
    return obj


STIX_BUNDLE = {
    "type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
    "objects": [
        {"type": "identity", "spec_version": "2.1", "id": "identity--1", "name": "ACME CTI",
         "identity_class": "organization", "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z"},
        _indicator("[ipv4-addr:value = '198.51.100.1']"),
        _indicator("[ipv4-addr:value = '203.0.113.0/24' OR ipv6-addr:value = '2001:db8:1::/48']"),
        _indicator("[ipv4-addr:value ISSUBSET '192.0.2.0/25'] OR [ipv4-addr:value = '192.0.2.200']"),
        _indicator("[ipv4-addr:value = '198.51.100.9' AND network-traffic:dst_port = 443]"),   # narrower: skipped
        _indicator("[domain-name:value = 'evil.example']"),                                  # not an address
        _indicator("[ipv4-addr:value = '198.51.100.2']", revoked=True),
        _indicator("[ipv4-addr:value = '198.51.100.3']", valid_until="2020-01-01T00:00:00Z"),
        _indicator("[ipv4-addr:value = '999.1.1.1']"),                                      # malformed
        _indicator("[ipv6-addr:value = '10.0.0.1']"),                                       # wrong family
        _indicator("[ipv4-addr:value = '198.51.100.4']", pattern_type="sigma"),
    ],
}


def test_stix_bundle():
    r = parse_stix(json.dumps(STIX_BUNDLE), now=1767600000)
    assert sorted(str(n) for n, _ in r.indicators) == sorted([
        "198.51.100.1/32", "203.0.113.0/24", "2001:db8:1::/48", "192.0.2.0/25", "192.0.2.200/32"])
    assert r.bad_lines == 2 and r.skipped == 5


def test_stix_pattern_forms():
    assert stix_pattern_networks("[ipv6-addr:value = '2001:db8::1']") == [N("2001:db8::1/128")]
    assert stix_pattern_networks("[file:hashes.'SHA-256' = 'aa']") is None
    with pytest.raises(ValueError):
        stix_pattern_networks("[ipv4-addr:value = 'x']")


def test_file_feeds_through_the_enricher(tmp_path):
    (tmp_path / "drop.txt").write_text(SPAMHAUS_DROP)
    (tmp_path / "feodo.csv").write_text(FEODO_CSV)
    (tmp_path / "bundle.json").write_text(json.dumps(STIX_BUNDLE))
    cfg = config.from_mapping({
        "enrichment": {"lookups_dir": "."},
        "threat_feed:spamhaus_drop": {"url": "drop.txt", "format": "iplist", "category": "hijacked"},
        "threat_feed:feodo": {"url": "feodo.csv", "format": "csv", "column": "dst_ip", "category": "botnet_cc"},
        "threat_feed:acme_stix": {"url": "bundle.json", "format": "stix", "category": "apt"},
    }, base_dir=str(tmp_path))
    e = Enricher(cfg, background=False)

    def match(ip):
        f = Flow()
        f.src_ip, f.dest_ip, f.protocol_number = "10.0.0.1", ip, 6
        e.enrich(f)
        return f.threat_match, f.threat_source, f.threat_category

    assert match("1.10.20.30") == ("1.10.20.30", "spamhaus_drop", "hijacked")
    assert match("51.178.161.32") == ("51.178.161.32", "feodo", "botnet_cc")
    assert match("192.0.2.100") == ("192.0.2.100", "acme_stix", "apt")
    assert match("8.8.8.8") == (None, None, None)
    h = e.health()
    assert h["threat_feed:spamhaus_drop"] == "ok: 4 indicators from %s, 2 bad lines" % (tmp_path / "drop.txt")
    assert h["threat_feed:feodo"].startswith("ok: 2 indicators")
    # a feed file rewritten with new content is picked up on refresh
    (tmp_path / "drop.txt").write_text("8.8.8.0/24 ; SBL-TEST\n")
    assert e.refresh(1767600000 + 10)
    assert match("8.8.8.8")[1] == "spamhaus_drop" and match("1.10.20.30") == (None, None, None)
    # a feed that disappears keeps its last good indicators and says so
    os.remove(tmp_path / "feodo.csv")
    e.refresh(1767600000 + 20)
    assert match("51.178.161.32")[1] == "feodo"
    assert "keeping 2 indicators" in e.health()["threat_feed:feodo"]


def test_same_network_from_two_sources_is_joined(tmp_path):
    (tmp_path / "a.txt").write_text("192.0.2.0/24\n")
    (tmp_path / "boundaryflow_threat_intel.csv").write_text("indicator,source,category,confidence\n"
                                                           "192.0.2.0/24,es_ip_intel,c2,90\n")
    cfg = config.from_mapping({"enrichment": {"lookups_dir": "."},
                               "threat_feed:a": {"url": "a.txt", "category": "scanner"}}, base_dir=str(tmp_path))
    e = Enricher(cfg, background=False)
    f = Flow()
    f.src_ip, f.dest_ip = "192.0.2.7", "10.0.0.1"
    e.enrich(f)
    assert (f.threat_source, f.threat_category) == ("es_ip_intel,a", "c2,scanner")
