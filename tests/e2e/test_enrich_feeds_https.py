"""Threat feeds over HTTPS on loopback: conditional GET (ETag / Last-Modified), TLS verification
(default rejects a private CA, ca_bundle trusts it), bearer tokens, TAXII 2.1 and the background
refresh thread."""
from __future__ import annotations

import os
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from boundaryflow import config  # noqa: E402
from boundaryflow.enrich import Enricher  # noqa: E402
from boundaryflow.model import Flow  # noqa: E402

pytest.importorskip("requests", reason="pip install requests (requirements-dev.txt)")
pytestmark = pytest.mark.e2e
pytest.importorskip("taxii2client", reason="pip install taxii2-client (requirements-dev.txt)")

T0 = 1767600000.0
TAXII = "application/taxii+json;version=2.1"


@pytest.fixture(params=["env-ca-vars", "no-env-ca-vars"])
def ca_env(request, monkeypatch):
    """Run with and without REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE pointing at the system CAs: requests
    lets those replace Session.verify, and our ca_bundle / verify_tls settings must still win."""
    if request.param == "env-ca-vars":
        import certifi
        for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            monkeypatch.setenv(k, certifi.where())
    else:
        for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
            monkeypatch.delenv(k, raising=False)


def make(tmp_path, feeds, ca=None, **enrichment):
    mapping = {"enrichment": dict({"lookups_dir": str(tmp_path)}, **enrichment)}
    if ca:
        mapping["enrichment"]["ca_bundle"] = ca
    for name, sec in feeds.items():
        mapping["threat_feed:" + name] = sec
    return Enricher(config.from_mapping(mapping, base_dir=str(tmp_path)), background=False)


def threat(e, ip):
    f = Flow()
    f.src_ip, f.dest_ip, f.protocol_number = "10.0.0.1", ip, 6
    e.enrich(f)
    return f.threat_source


def test_conditional_get_with_etag(tmp_path, server, certs):
    state = {"body": "192.0.2.0/24 ; SBL1\n", "etag": '"v1"'}

    def drop(req):
        if req.headers.get("If-None-Match") == state["etag"]:
            return 304, {"ETag": state["etag"]}, b""
        return 200, {"ETag": state["etag"], "Content-Type": "text/plain"}, state["body"]

    server.routes["/drop.txt"] = drop
    e = make(tmp_path, {"drop": {"url": server.url + "/drop.txt", "interval": "1h"}}, ca=certs[0])
    assert threat(e, "192.0.2.9") is None          # remote feeds load on refresh, not in __init__
    assert e.refresh(T0, wait=True)
    assert threat(e, "192.0.2.9") == "drop"
    assert not e.refresh(T0 + 60, wait=True)       # not due yet: no request
    assert len(server.requests) == 1
    assert not e.refresh(T0 + 3600, wait=True)     # due: 304 -> unchanged, indicators kept
    assert server.requests[-1].headers["If-None-Match"] == '"v1"'
    assert threat(e, "192.0.2.9") == "drop" and e.threat.feeds[0].not_modified == 1
    state.update(body="198.51.100.0/24\nbad line\n", etag='"v2"')
    assert e.refresh(T0 + 7200, wait=True)
    assert threat(e, "198.51.100.1") == "drop" and threat(e, "192.0.2.9") is None
    assert e.health()["threat_feed:drop"] == "ok: 1 indicators from %s/drop.txt, 1 bad lines" % server.url


def test_if_modified_since(tmp_path, server, certs):
    lm = "Mon, 05 Jan 2026 10:00:00 GMT"

    def feed(req):
        if req.headers.get("If-Modified-Since") == lm:
            return 304, {}, b""
        return 200, {"Last-Modified": lm}, '"first_seen_utc","dst_ip"\n"2026-01-05","203.0.113.5"\n'

    server.routes["/ip.csv"] = feed
    e = make(tmp_path, {"c": {"url": server.url + "/ip.csv", "format": "csv", "column": "dst_ip",
                              "interval": "5m"}}, ca=certs[0])
    e.refresh(T0, wait=True)
    e.refresh(T0 + 301, wait=True)
    assert [r.headers.get("If-Modified-Since") for r in server.requests] == [None, lm]
    assert threat(e, "203.0.113.5") == "c"


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_default_verification_rejects_private_ca_and_ca_bundle_trusts_it(tmp_path, server, certs, ca_env):
    server.routes["/drop.txt"] = lambda req: (200, {}, "192.0.2.0/24\n")
    url = server.url + "/drop.txt"
    e = make(tmp_path, {"drop": {"url": url}})                     # verify=True, system CAs
    e.refresh(T0, wait=True)
    status = e.health()["threat_feed:drop"]
    assert status.startswith("error: %s: TLS verification failed" % url), status
    assert threat(e, "192.0.2.1") is None and server.requests == []   # handshake refused: no request
    e = make(tmp_path, {"drop": {"url": url}}, ca=certs[0])
    e.refresh(T0, wait=True)
    assert threat(e, "192.0.2.1") == "drop"
    e = make(tmp_path, {"drop": {"url": url, "verify_tls": "false"}})
    e.refresh(T0, wait=True)
    assert e.health()["threat_feed:drop"].endswith("(TLS verification off)")


def test_bearer_token_from_environment(tmp_path, server, certs, monkeypatch):
    def feed(req):
        if req.headers.get("Authorization") != "Bearer s3cret":
            return 401, {}, "no"
        return 200, {}, "192.0.2.0/24\n"

    server.routes["/private.txt"] = feed
    sec = {"url": server.url + "/private.txt", "token_env": "BF_TEST_FEED_TOKEN"}
    e = make(tmp_path, {"p": sec}, ca=certs[0])
    e.refresh(T0, wait=True)
    assert "BF_TEST_FEED_TOKEN" in e.health()["threat_feed:p"]
    monkeypatch.setenv("BF_TEST_FEED_TOKEN", "wrong")
    e.refresh(T0 + 7200, wait=True)
    assert "HTTP 401" in e.health()["threat_feed:p"]
    monkeypatch.setenv("BF_TEST_FEED_TOKEN", "s3cret")
    e.refresh(T0 + 7200 + 301, wait=True)       # a failed fetch is retried after 5 min, not 1 h
    assert threat(e, "192.0.2.1") == "p"


def _taxii_indicator(n, pattern):
    return {"type": "indicator", "spec_version": "2.1", "id": "indicator--%08d-0000-4000-8000-000000000000" % n,
            "created": "2026-01-05T00:00:00.000Z", "modified": "2026-01-05T00:00:00.000Z",
            "name": "C2 %d" % n, "indicator_types": ["malicious-activity"], "pattern": pattern,
            "pattern_type": "stix", "pattern_version": "2.1", "valid_from": "2026-01-05T00:00:00Z"}


def test_taxii21_collection_with_pagination(tmp_path, server, certs, ca_env):
    cid = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
    base = "/api1/collections/%s/" % cid
    page1 = [_taxii_indicator(1, "[ipv4-addr:value = '198.51.100.7']"),
             _taxii_indicator(2, "[ipv4-addr:value = '203.0.113.0/24' OR ipv6-addr:value = '2001:db8:c2::/48']")]
    page2 = [_taxii_indicator(3, "[ipv4-addr:value = '192.0.2.77']"),
             _taxii_indicator(4, "[domain-name:value = 'c2.example']")]

    def collection(req):
        assert req.headers["Accept"] == TAXII
        return 200, {"Content-Type": TAXII}, {
            "id": cid, "title": "High Value Indicator Collection", "description": "C2 infrastructure",
            "can_read": True, "can_write": False, "media_types": [TAXII]}

    def objects(req):
        assert req.headers["Accept"] == TAXII and req.query.get("match[type]") == ["indicator"]
        if req.query.get("next") == ["page-2"]:
            return 200, {"Content-Type": TAXII, "X-TAXII-Date-Added-First": "2026-01-05T00:00:00.000Z",
                         "X-TAXII-Date-Added-Last": "2026-01-05T00:00:01.000Z"}, {"more": False, "objects": page2}
        return 200, {"Content-Type": TAXII}, {"more": True, "next": "page-2", "objects": page1}

    server.routes[base] = collection
    server.routes[base + "objects/"] = objects
    e = make(tmp_path, {"ti": {"url": server.url + "/api1/", "format": "taxii", "collection": cid,
                               "category": "c2"}}, ca=certs[0])
    assert e.refresh(T0, wait=True)
    for ip in ("198.51.100.7", "203.0.113.9", "2001:db8:c2::1", "192.0.2.77"):
        assert threat(e, ip) == "ti", ip
    assert threat(e, "8.8.8.8") is None
    assert e.health()["threat_feed:ti"].startswith("ok: 4 indicators from %s/api1/ collection %s" % (server.url, cid))
    assert server.paths() == [base, base + "objects/", base + "objects/"]


def test_background_refresh_never_blocks_enrichment(tmp_path, server, certs):
    release = threading.Event()

    def slow_feed(req):
        release.wait(10)             # a slow server: the fetch is in flight while flows arrive
        return 200, {}, "192.0.2.0/24\n"

    server.routes["/drop.txt"] = slow_feed
    mapping = {"enrichment": {"lookups_dir": str(tmp_path), "ca_bundle": certs[0]},
               "threat_feed:drop": {"url": server.url + "/drop.txt"}}
    e = Enricher(config.from_mapping(mapping, base_dir=str(tmp_path)))      # background=True
    assert e._worker is not None and e._worker.is_alive()       # fetch started at construction
    assert threat(e, "192.0.2.1") is None                       # enrich() does not wait for it
    assert not e.refresh()                                      # nor does refresh()
    release.set()
    e._worker.join(10)
    assert threat(e, "192.0.2.1") is None        # this address was cached before the new intel ...
    assert threat(e, "192.0.2.2") == "drop"      # ... a new one already sees it
    assert e.refresh()                           # the next refresh drops the address cache
    assert threat(e, "192.0.2.1") == "drop"
    e.close()
