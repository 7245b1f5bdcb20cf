"""KV store pulls from a search head's REST API, against a loopback HTTPS server shaped like splunkd.

The server answers ``/servicesNS/nobody/{app}/storage/collections/data/{collection}`` the way the
KV store REST API does: a JSON array of records honouring ``limit``/``skip``/``sort``, and for a
bad token HTTP 401 with ``{"messages": [{"type": ..., "text": ...}]}``. The export endpoint streams
one JSON object per line as splunkd's ``search/v2/jobs/export`` does with ``output_mode=json``.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import socket
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from enrich_https_server import HttpsServer  # noqa: E402

from boundaryflow import config  # noqa: E402
from boundaryflow.enrich import Enricher, kvstore  # noqa: E402
from boundaryflow.model import Flow  # noqa: E402

pytest.importorskip("requests", reason="pip install requests (requirements-dev.txt)")
pytestmark = pytest.mark.e2e

T0 = 1767600000.0
TOKEN = "eyJraWQiOiJzcGx1bmsuc2VjcmV0IiwiYWxnIjoiSFM1MTIifQ.test-token-value"
ENV = "BOUNDARYFLOW_SPLUNK_REST_TOKEN"
IP_INTEL = "/servicesNS/nobody/SA-ThreatIntelligence/storage/collections/data/ip_intel"
IDENTITY = "/servicesNS/nobody/TA_boundaryflow/storage/collections/data/boundaryflow_identity"
EXPORT = "/servicesNS/nobody/TA_boundaryflow/search/v2/jobs/export"

# ES ip_intel rows as the KV store returns them (typed JSON values, internal _key/_user fields)
ES_ROWS = [
    {"_key": "5f1a01", "_user": "nobody", "ip": "198.51.100.7", "domain": "", "threat_key": "iblocklist_tor",
     "description": "Tor exit node", "weight": 1, "disabled": False, "time": 1767500000},
    {"_key": "5f1a02", "_user": "nobody", "ip": "203.0.113.0/25", "domain": "", "threat_key": "local_ip_intel",
     "description": "C2 infrastructure", "weight": 3, "disabled": False, "time": 1767500000},
    {"_key": "5f1a03", "_user": "nobody", "ip": "192.0.2.10-192.0.2.20", "domain": "", "threat_key": "emerging_threats",
     "description": "scanner", "weight": 2, "disabled": False, "time": 1767500000},
    {"_key": "5f1a04", "_user": "nobody", "ip": "", "domain": "bad.example", "threat_key": "local_domain_intel",
     "description": "domain only", "weight": 1, "disabled": False, "time": 1767500000},
    {"_key": "5f1a05", "_user": "nobody", "ip": "198.51.100.99", "domain": "", "threat_key": "old_feed",
     "description": "retired", "weight": 1, "disabled": True, "time": 1767500000},
    {"_key": "5f1a06", "_user": "nobody", "ip": "not-an-ip", "domain": "", "threat_key": "broken",
     "description": "", "weight": 1, "disabled": False, "time": 1767500000},
]


class FakeSplunkd(object):
    """KV store collections and the export endpoint, with token checking."""

    def __init__(self, server, token=TOKEN):
        self.server, self.token, self.collections, self.lookups = server, token, {}, {}
        self.fail_with = None

    def _authorized(self, req):
        basic = "Basic " + base64.b64encode(b"svc_boundaryflow:" + self.token.encode()).decode()
        return req.headers.get("Authorization") in ("Bearer " + self.token, "Splunk " + self.token, basic)

    def _denied(self):
        return 401, {}, {"messages": [{"type": "ERROR", "text": "call not properly authenticated"}]}

    def add_collection(self, path, rows):
        self.collections[path] = rows

        def route(req):
            if self.fail_with:
                return self.fail_with
            if not self._authorized(req):
                return self._denied()
            q = {k: v[0] for k, v in req.query.items()}
            data = sorted(self.collections[path], key=lambda r: r[q["sort"]]) if "sort" in q else self.collections[path]
            skip = int(q.get("skip", 0))
            limit = int(q.get("limit", 0)) or len(data)      # the KV store: limit 0 = all
            return 200, {}, data[skip:skip + limit]
        self.server.routes[path] = route

    def add_export(self, path, lookups):
        self.lookups = lookups

        def route(req):
            if not self._authorized(req):
                return self._denied()
            form = req.form()
            name = form["search"].split("inputlookup", 1)[1].strip()
            if name not in self.lookups:
                lines = [{"messages": [{"type": "ERROR", "text": "The lookup table '%s' does not exist." % name}]}]
            else:
                lines = [{"preview": False, "offset": i, "result": r} for i, r in enumerate(self.lookups[name])]
                if lines:
                    lines[-1]["lastrow"] = True
            return 200, {"Content-Type": "application/json"}, "".join(json.dumps(x) + "\n" for x in lines)
        self.server.routes[path] = route


@pytest.fixture
def splunkd(certs):
    s = HttpsServer(certs[1], certs[2])
    yield FakeSplunkd(s)
    s.close()


@pytest.fixture(autouse=True)
def token_env(monkeypatch):
    monkeypatch.setenv(ENV, TOKEN)
    for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(k, raising=False)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make(tmp_path, splunkd, ca=None, **enrichment):
    en = {"lookups_dir": str(tmp_path), "splunk_rest_url": splunkd.server.url, "splunk_rest_token_env": ENV}
    if ca:
        en["ca_bundle"] = ca
    en.update(enrichment)
    return Enricher(config.from_mapping({"enrichment": en}, base_dir=str(tmp_path)), background=False)


def flow(dest, src="10.0.0.1", end=T0):
    f = Flow()
    f.src_ip, f.dest_ip, f.protocol_number, f.end = src, dest, 6, end
    return f


def enriched(e, dest, **kw):
    f = flow(dest, **kw)
    e.enrich(f)
    return f


def test_ip_intel_is_paged_and_matches_like_the_csv_threat_lookup(tmp_path, splunkd, certs, monkeypatch):
    monkeypatch.setattr(kvstore, "PAGE_SIZE", 2)
    splunkd.add_collection(IP_INTEL, ES_ROWS)
    with open(os.path.join(str(tmp_path), "boundaryflow_threat_intel.csv"), "w") as fh:
        fh.write("indicator,source,category\n198.51.100.7,soc_list,tor\n100.64.9.9,soc_list,botnet\n")
    e = make(tmp_path, splunkd, ca=certs[0])
    assert e.refresh(T0, wait=True)

    reqs = [r for r in splunkd.server.requests if r.path == IP_INTEL]
    assert [r.query["skip"][0] for r in reqs] == ["0", "2", "4", "6"]   # the last page is empty
    assert all(r.query["limit"] == ["2"] and r.query["output_mode"] == ["json"] for r in reqs)
    assert all(r.headers["Authorization"] == "Bearer " + TOKEN for r in reqs)

    f = enriched(e, "203.0.113.77")
    assert (f.threat_match, f.threat_source, f.threat_category) == ("203.0.113.77", "local_ip_intel", "C2 infrastructure")
    assert enriched(e, "192.0.2.15").threat_source == "emerging_threats"      # inside the range
    assert enriched(e, "192.0.2.21").threat_source is None                   # just outside it
    assert enriched(e, "198.51.100.99").threat_source is None                # disabled in ES
    # one address in both sources: joined exactly as two threat sources of the same network are
    both = enriched(e, "198.51.100.7")
    assert (both.threat_source, both.threat_category) == ("soc_list,iblocklist_tor", "tor,Tor exit node")
    csv_only = enriched(e, "100.64.9.9")
    assert (csv_only.threat_match, csv_only.threat_source, csv_only.threat_category) == ("100.64.9.9", "soc_list", "botnet")
    # a match from the source side too
    g = flow("10.0.0.1", src="203.0.113.5")
    e.enrich(g)
    assert (g.threat_match, g.threat_source) == ("203.0.113.5", "local_ip_intel")

    h = e.health()
    name = "SA-ThreatIntelligence/ip_intel"
    assert h["kvstore_records:" + name] == len(ES_ROWS)
    assert h["kvstore:" + name].startswith("ok: 6 records, 6 indicators")   # .10-.20 is 4 CIDRs
    assert "1 bad" in h["kvstore:" + name] and "2 skipped" in h["kvstore:" + name]
    assert e.threat_flows >= 5


def test_unchanged_content_changes_nothing_and_new_rows_arrive_on_the_next_poll(tmp_path, splunkd, certs):
    splunkd.add_collection(IP_INTEL, ES_ROWS[:1])
    e = make(tmp_path, splunkd, ca=certs[0], kv_poll_interval="15m")
    assert e.refresh(T0, wait=True)
    assert not e.refresh(T0 + 60, wait=True)            # not due: no request at all
    assert len(splunkd.server.requests) == 1
    assert not e.refresh(T0 + 901, wait=True)           # due, same content: tables and cache kept
    assert len(splunkd.server.requests) == 2
    splunkd.collections[IP_INTEL] = ES_ROWS[:2]
    assert e.refresh(T0 + 1802, wait=True)
    assert enriched(e, "203.0.113.1").threat_source == "local_ip_intel"


def test_tls_verification_is_on_by_default_and_ca_bundle_trusts_the_private_ca(tmp_path, splunkd, certs):
    splunkd.add_collection(IP_INTEL, ES_ROWS)
    e = make(tmp_path, splunkd)
    e.refresh(T0, wait=True)
    status = e.health()["kvstore:SA-ThreatIntelligence/ip_intel"]
    assert status.startswith("error:") and "TLS verification failed" in status and "ca_bundle" in status
    assert enriched(e, "198.51.100.7").threat_source is None
    assert splunkd.server.requests == []                 # no request got past the handshake

    e2 = make(tmp_path, splunkd, ca=certs[0])
    e2.refresh(T0, wait=True)
    assert enriched(e2, "198.51.100.7").threat_source == "iblocklist_tor"


def test_a_bad_token_is_a_health_message_that_never_shows_the_token(tmp_path, splunkd, certs, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)                      # urllib3 / requests debug logging on
    splunkd.add_collection(IP_INTEL, ES_ROWS)
    splunkd.token = "the-right-token"
    e = make(tmp_path, splunkd, ca=certs[0])
    assert not e.refresh(T0, wait=True)
    status = e.health()["kvstore:SA-ThreatIntelligence/ip_intel"]
    assert "HTTP 401" in status and "call not properly authenticated" in status and "token was refused" in status
    assert TOKEN not in json.dumps(e.health()) and TOKEN not in caplog.text
    assert TOKEN.split(".")[0] not in status
    assert enriched(e, "198.51.100.7").threat_source is None


def test_a_session_key_is_sent_with_the_splunk_scheme(tmp_path, splunkd, certs, monkeypatch):
    monkeypatch.setenv(ENV, "Splunk " + TOKEN)
    splunkd.add_collection(IP_INTEL, ES_ROWS[:1])
    e = make(tmp_path, splunkd, ca=certs[0])
    e.refresh(T0, wait=True)
    assert splunkd.server.requests[0].headers["Authorization"] == "Splunk " + TOKEN
    assert enriched(e, "198.51.100.7").threat_source == "iblocklist_tor"


def test_the_add_on_helpers_user_and_password_credentials_work(tmp_path, splunkd, certs, monkeypatch):
    import TA_boundaryflow_collector_helper as helper
    accounts = {"sh1": {"account_type": "splunk_rest", "url": splunkd.server.url,
                        "username": "svc_boundaryflow", "secret": TOKEN}}
    _mapping, secrets = helper.build_mapping("boundaryflow_collector://c1", {}, {"enrichment": {
        "splunk_rest_account": "sh1"}}, accounts, {}, str(tmp_path))
    monkeypatch.setenv(ENV, secrets[ENV])
    splunkd.add_collection(IP_INTEL, ES_ROWS[:1])
    e = make(tmp_path, splunkd, ca=certs[0])
    e.refresh(T0, wait=True)
    assert enriched(e, "198.51.100.7").threat_source == "iblocklist_tor"
    splunkd.token = "rotated"
    e.refresh(T0 + 10 ** 4, wait=True)
    status = e.health()["kvstore:SA-ThreatIntelligence/ip_intel"]
    assert "HTTP 401" in status and secrets[ENV].split(" ")[1] not in status and TOKEN not in status


def test_a_failed_poll_keeps_the_old_data_and_retries_sooner(tmp_path, splunkd, certs):
    splunkd.add_collection(IP_INTEL, ES_ROWS)
    e = make(tmp_path, splunkd, ca=certs[0], kv_poll_interval="1h")
    e.refresh(T0, wait=True)
    splunkd.fail_with = (503, {}, {"messages": [{"type": "ERROR", "text": "KV Store is initializing. Please try again later."}]})
    assert not e.refresh(T0 + 3601, wait=True)
    status = e.health()["kvstore:SA-ThreatIntelligence/ip_intel"]
    assert "HTTP 503" in status and "KV Store is initializing" in status
    assert "keeping 6 records from the last good poll" in status
    assert enriched(e, "198.51.100.7").threat_source == "iblocklist_tor"
    (coll,) = e.kvstore
    assert coll.next_due == T0 + 3601 + kvstore.RETRY_AFTER_FAILURE
    coll.base = "https://127.0.0.1:%d" % closed_port()   # the search head goes away entirely
    e.refresh(coll.next_due, wait=True)
    assert "connection failed" in e.health()["kvstore:SA-ThreatIntelligence/ip_intel"]
    assert enriched(e, "203.0.113.3").threat_source == "local_ip_intel"


def test_an_unset_token_variable_is_reported_not_fatal(tmp_path, splunkd, certs, monkeypatch):
    monkeypatch.delenv(ENV)
    splunkd.add_collection(IP_INTEL, ES_ROWS)
    e = make(tmp_path, splunkd, ca=certs[0])
    e.refresh(T0, wait=True)
    assert "environment variable %s" % ENV in e.health()["kvstore:SA-ThreatIntelligence/ip_intel"]
    assert splunkd.server.requests == []


def test_identity_collection_gives_time_valid_users(tmp_path, splunkd, certs):
    splunkd.add_collection(IDENTITY, [
        {"_key": "a1", "_user": "nobody", "ip": "10.1.2.3", "user": "alice", "start": T0 - 3600, "end": T0 + 60},
        {"_key": "a2", "_user": "nobody", "ip": "10.1.2.3", "user": "bob", "start": T0 + 60, "end": T0 + 7200},
        {"_key": "a3", "_user": "nobody", "ip": "2001:db8:0:0::7", "user": "carol", "start": "2026-01-05T07:00:00Z", "end": ""},
        {"_key": "a4", "_user": "nobody", "ip": "10.9.9.9", "user": "", "start": T0, "end": T0 + 1},
    ])
    e = make(tmp_path, splunkd, ca=certs[0], kv_ip_intel="", kv_identity="TA_boundaryflow/boundaryflow_identity")
    assert [c.name for c in e.kvstore] == ["TA_boundaryflow/boundaryflow_identity"]
    assert e.refresh(T0, wait=True)
    assert enriched(e, "10.1.2.3", end=T0).dest_user == "alice"
    assert enriched(e, "10.1.2.3", end=T0 + 600).dest_user == "bob"
    assert enriched(e, "10.1.2.3", end=T0 + 9000).dest_user is None
    assert enriched(e, "2001:db8::7").dest_user == "carol"             # canonical IPv6 text
    status = e.health()["kvstore:TA_boundaryflow/boundaryflow_identity"]
    assert status.startswith("ok: 4 records, 3 identity intervals") and "1 bad" in status


def test_identity_lookup_built_by_the_saved_search_is_read_through_an_export_search(tmp_path, splunkd, certs):
    # outputlookup writes strings: the CSV's rows come back as text
    splunkd.add_export(EXPORT, {"boundaryflow_identity.csv": [
        {"ip": "10.4.4.4", "user": "dave", "start": str(int(T0 - 60)), "end": str(int(T0 + 60))}]})
    e = make(tmp_path, splunkd, ca=certs[0], kv_ip_intel="", kv_identity="TA_boundaryflow/boundaryflow_identity.csv")
    e.refresh(T0, wait=True)
    (req,) = splunkd.server.requests
    assert req.method == "POST" and req.form() == {"search": "| inputlookup boundaryflow_identity.csv", "output_mode": "json"}
    assert enriched(e, "10.4.4.4").dest_user == "dave"

    e2 = make(tmp_path, splunkd, ca=certs[0], kv_ip_intel="", kv_identity="TA_boundaryflow/missing.csv")
    e2.refresh(T0, wait=True)
    assert "does not exist" in e2.health()["kvstore:TA_boundaryflow/missing.csv"]


def test_the_background_refresh_thread_polls_without_blocking(tmp_path, splunkd, certs):
    splunkd.add_collection(IP_INTEL, ES_ROWS)
    en = {"lookups_dir": str(tmp_path), "splunk_rest_url": splunkd.server.url, "ca_bundle": certs[0]}
    e = Enricher(config.from_mapping({"enrichment": en}, base_dir=str(tmp_path)), background=True)
    e._worker.join(10)                     # started by __init__; applied by the next refresh()
    assert e.refresh() and enriched(e, "198.51.100.7").threat_source == "iblocklist_tor"
    e.close()


def test_without_a_search_head_url_nothing_is_polled(tmp_path):
    e = Enricher(config.from_mapping({"enrichment": {"lookups_dir": str(tmp_path)}}, base_dir=str(tmp_path)),
                 background=False)
    assert e.kvstore == [] and not any(k.startswith("kvstore") for k in e.health())
