"""Okta System Log and Microsoft Graph sign-in pollers against loopback HTTPS servers whose
responses are shaped like the vendors' documented JSON (Okta LogEvent objects with Link rel=next
paging; Graph signIn resources with @odata.nextLink and a client-credentials token endpoint)."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from boundaryflow import config  # noqa: E402
from boundaryflow.enrich import Enricher  # noqa: E402
from boundaryflow.enrich.timed import parse_time  # noqa: E402
from boundaryflow.model import Flow  # noqa: E402

pytest.importorskip("requests", reason="pip install requests (requirements-dev.txt)")
pytestmark = pytest.mark.e2e

NOW = parse_time("2026-01-05T12:00:00Z")


def okta_event(uuid, published, ip, user, result="SUCCESS", event_type="user.session.start"):
    """An Okta System Log LogEvent (developer.okta.com/docs/reference/api/system-log/)."""
    return {
        "actor": {"id": "00u1qw1mqitPHM8AJ0g7", "type": "User", "alternateId": user,
                  "displayName": user.split("@")[0].title(), "detailEntry": None},
        "client": {"userAgent": {"rawUserAgent": "Mozilla/5.0", "os": "Mac OS X", "browser": "CHROME"},
                   "zone": "OFF_NETWORK", "device": "Computer", "id": None, "ipAddress": ip,
                   "geographicalContext": {"city": "San Francisco", "state": "California", "country": "United States",
                                           "postalCode": "94105", "geolocation": {"lat": 37.79, "lon": -122.39}}},
        "authenticationContext": {"authenticationProvider": None, "credentialProvider": None,
                                  "credentialType": None, "issuer": None, "interface": None,
                                  "authenticationStep": 0, "externalSessionId": "102bZDNFfWaQSyEZQuDgWt-uQ"},
        "displayMessage": "User login to Okta", "eventType": event_type,
        "outcome": {"result": result, "reason": None if result == "SUCCESS" else "INVALID_CREDENTIALS"},
        "published": published,
        "securityContext": {"asNumber": None, "asOrg": None, "isp": None, "domain": None, "isProxy": None},
        "severity": "INFO", "debugContext": {"debugData": {"requestUri": "/login/do-login"}},
        "legacyEventType": "core.user_auth.login_success",
        "transaction": {"type": "WEB", "id": "V04Oy4ubUOc5UuG6s9DyNQAABtc", "detail": {}},
        "uuid": uuid, "version": "0",
        "request": {"ipChain": [{"ip": ip, "geographicalContext": None, "version": "V4", "source": None}]},
        "target": [],
    }


def graph_signin(id_, created, ip, upn, error=0):
    """A Microsoft Graph signIn resource (learn.microsoft.com/graph/api/resources/signin)."""
    return {
        "id": id_, "createdDateTime": created, "userDisplayName": upn.split("@")[0], "userPrincipalName": upn,
        "userId": "d7cc485d-2c1b-422c-98fd-5ce52859a4a3", "appId": "de8bc8b5-d9f9-48b1-a8ad-b748da725064",
        "appDisplayName": "Graph Explorer", "ipAddress": ip, "clientAppUsed": "Browser",
        "correlationId": "65e4e1c4-d2ef-4dd4-bcbd-1dc4f17d9c4b", "conditionalAccessStatus": "notApplied",
        "isInteractive": True, "riskDetail": "none", "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": "none", "riskState": "none", "riskEventTypes_v2": [],
        "resourceDisplayName": "Microsoft Graph", "resourceId": "00000003-0000-0000-c000-000000000000",
        "status": {"errorCode": error, "failureReason": None if not error else "Invalid username or password.",
                   "additionalDetails": None},
        "deviceDetail": {"deviceId": "", "displayName": None, "operatingSystem": "Windows 10",
                         "browser": "Edge 80.0.361", "isCompliant": None, "isManaged": None, "trustType": None},
        "location": {"city": "Redmond", "state": "Washington", "countryOrRegion": "US",
                     "geoCoordinates": {"altitude": None, "latitude": 47.68, "longitude": -122.12}},
        "appliedConditionalAccessPolicies": [],
    }


def user_of(e, ip, when):
    f = Flow()
    f.src_ip, f.dest_ip, f.dest_port, f.protocol_number, f.end = ip, "10.30.0.5", 443, 6, when
    e.enrich(f)
    return f.src_user


def test_okta_system_log_poller(tmp_path, server, certs, monkeypatch):
    monkeypatch.setenv("BF_TEST_OKTA", "00abcToken")
    pages = {
        None: [okta_event("a1", "2026-01-05T11:00:00.000Z", "198.51.100.20", "alice@example.com"),
               okta_event("a2", "2026-01-05T11:05:00.000Z", "198.51.100.21", "bob@example.com", result="FAILURE")],
        "cursor-2": [okta_event("a3", "2026-01-05T11:30:00.000Z", "198.51.100.20", "carol@example.com",
                                event_type="user.authentication.sso")],
        "cursor-3": [],
    }
    nexts = {None: "cursor-2", "cursor-2": "cursor-3", "cursor-3": "cursor-4"}

    def logs(req):
        if req.headers.get("Authorization") != "SSWS 00abcToken":
            return 401, {}, {"errorCode": "E0000011", "errorSummary": "Invalid token provided"}
        after = req.query.get("after", [None])[0]
        link = '<%s/api/v1/logs?after=%s&limit=1000>; rel="next"' % (server.url, nexts[after])
        if after is None:
            link = '<%s/api/v1/logs?limit=1000>; rel="self", ' % server.url + link
        return 200, {"Link": link}, pages[after]

    server.routes["/api/v1/logs"] = logs
    cfg = config.from_mapping({"enrichment": {
        "lookups_dir": str(tmp_path), "ca_bundle": certs[0], "okta_url": server.url,
        "okta_token_env": "BF_TEST_OKTA", "identity_ttl": "8h"}}, base_dir=str(tmp_path))
    e = Enricher(cfg, background=False)
    assert e.refresh(NOW, wait=True)
    first = server.requests[0]
    assert first.query["since"] == ["2026-01-05T04:00:00.000Z"]          # now - identity_ttl
    assert 'eventType eq "user.session.start"' in first.query["filter"][0]
    assert len(server.requests) == 3                                      # stops at the empty page
    at = lambda hhmm: parse_time("2026-01-05T%s:00Z" % hhmm)              # noqa: E731
    assert user_of(e, "198.51.100.20", at("10:59")) is None               # before the sign-in
    assert user_of(e, "198.51.100.20", at("11:10")) == "alice@example.com"
    assert user_of(e, "198.51.100.20", at("11:45")) == "carol@example.com"   # the newer sign-in wins
    assert user_of(e, "198.51.100.20", at("20:00")) is None               # past the 8h TTL
    assert user_of(e, "198.51.100.21", at("11:10")) is None               # failed sign-in
    assert e.health()["identity_poller:okta"] == "ok: 2 new sign-ins, 1 addresses mapped"
    # the next poll starts at the newest sign-in seen; already-known events are not new
    assert not e.refresh(NOW + 600, wait=True)
    assert server.requests[3].query["since"] == ["2026-01-05T11:30:00.000Z"]


def test_okta_bad_token_is_reported(tmp_path, server, certs, monkeypatch):
    monkeypatch.setenv("BF_TEST_OKTA", "wrong")
    server.routes["/api/v1/logs"] = lambda req: (401, {}, {"errorCode": "E0000011"})
    cfg = config.from_mapping({"enrichment": {"lookups_dir": str(tmp_path), "ca_bundle": certs[0],
                                              "okta_url": server.url, "okta_token_env": "BF_TEST_OKTA"}},
                              base_dir=str(tmp_path))
    e = Enricher(cfg, background=False)
    e.refresh(NOW, wait=True)
    assert e.health()["identity_poller:okta"].startswith("error: HTTP 401 from %s/api/v1/logs" % server.url)


def test_microsoft_graph_signin_poller(tmp_path, server, certs, monkeypatch):
    monkeypatch.setenv("BF_TEST_ENTRA", "client-secret")
    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    tokens, filters = [], []

    def token(req):
        form = req.form()
        assert form == {"grant_type": "client_credentials", "client_id": "app-123",
                        "client_secret": "client-secret", "scope": server.url + "/.default"}
        tokens.append(1)
        return 200, {}, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                         "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test"}

    def signins(req):
        if req.headers.get("Authorization") != "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test":
            return 401, {}, {"error": {"code": "InvalidAuthenticationToken"}}
        ctx = "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns"
        if req.query.get("$skiptoken") == ["page2"]:
            return 200, {}, {"@odata.context": ctx, "value": [
                graph_signin("s3", "2026-01-05T11:40:00.1234567Z", "2001:db8:77::5", "dan@contoso.com")]}
        filters.append(req.query["$filter"][0])
        return 200, {}, {"@odata.context": ctx, "value": [
            graph_signin("s1", "2026-01-05T11:15:41.6195833Z", "131.107.159.37", "testaccount1@contoso.com"),
            graph_signin("s2", "2026-01-05T11:20:00Z", "131.107.159.38", "eve@contoso.com", error=50126)],
            "@odata.nextLink": server.url + "/v1.0/auditLogs/signIns?$skiptoken=page2"}

    server.routes["/%s/oauth2/v2.0/token" % tenant] = token
    server.routes["/v1.0/auditLogs/signIns"] = signins
    cfg = config.from_mapping({"enrichment": {
        "lookups_dir": str(tmp_path), "ca_bundle": certs[0], "entra_tenant_id": tenant,
        "entra_client_id": "app-123", "entra_client_secret_env": "BF_TEST_ENTRA",
        "entra_login_url": server.url, "entra_graph_url": server.url}}, base_dir=str(tmp_path))
    e = Enricher(cfg, background=False)
    assert e.refresh(NOW, wait=True)
    at = lambda hhmm: parse_time("2026-01-05T%s:00Z" % hhmm)              # noqa: E731
    assert user_of(e, "131.107.159.37", at("11:30")) == "testaccount1@contoso.com"
    assert user_of(e, "131.107.159.38", at("11:30")) is None              # errorCode 50126: failed
    assert user_of(e, "2001:db8:77::5", at("11:41")) == "dan@contoso.com"
    assert e.health()["identity_poller:entra"] == "ok: 2 new sign-ins, 2 addresses mapped"
    assert filters == ["createdDateTime ge 2026-01-05T00:00:00.000Z"]      # now - identity_ttl (12h)
    e.refresh(NOW + 600, wait=True)
    assert len(tokens) == 1                                               # token reused until it expires
    assert filters[1] == "createdDateTime ge 2026-01-05T11:40:00.123Z"    # from the newest sign-in seen
