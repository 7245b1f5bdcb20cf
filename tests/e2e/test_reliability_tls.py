"""TLS verification on by default (issue 7) for the outbound clients that had no such test yet:
the MaxMind database download and the Okta identity poller. A loopback HTTPS server with a private CA
is refused unless ``[enrichment] ca_bundle`` trusts it; nothing is downloaded or installed.
(Feeds: test_enrich_feeds_https.py::test_default_verification_rejects_private_ca_and_ca_bundle_trusts_it;
HEC: test_hec_sink.py::test_tls_verification_is_on_by_default.)"""
import os

import pytest

from test_enrich_maxmind_download import T0, MaxMindSite, mmdb  # noqa: F401  (mmdb: fixture)
from boundaryflow import config
from boundaryflow.enrich import Enricher

pytest.importorskip("requests", reason="pip install requests (requirements-dev.txt)")
pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def no_ambient_ca(monkeypatch):
    """Only the collector's own settings may decide what is trusted."""
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(var, raising=False)


def enricher(tmp_path, ca_bundle="", **enrichment):
    base = {"lookups_dir": str(tmp_path), "ca_bundle": ca_bundle}
    base.update(enrichment)
    cfg = config.from_mapping({"collector": {"state_dir": str(tmp_path / "state")}, "enrichment": base},
                              base_dir=str(tmp_path))
    return Enricher(cfg, background=False)


def test_maxmind_download_verifies_tls_by_default(tmp_path, server, certs, mmdb, monkeypatch):  # noqa: F811
    site = MaxMindSite(server)
    site.publish("GeoLite2-City", mmdb("GeoIP2-City-Test.mmdb"))
    site.publish("GeoLite2-ASN", mmdb("GeoLite2-ASN-Test.mmdb"))
    monkeypatch.setenv("BF_TEST_MAXMIND_KEY", "lic-key")
    mm = dict(maxmind_account_id="123456", maxmind_license_key_env="BF_TEST_MAXMIND_KEY",
              maxmind_download_url=server.url + "/geoip/databases", geoip_city_db=str(tmp_path / "city.mmdb"))
    e = enricher(tmp_path, **mm)
    e.refresh(T0, wait=True)
    status = e.health()["maxmind_download"]
    assert status.startswith("error") and ("certificate" in status.lower() or "tls verification failed" in status.lower()), status
    assert server.requests == [] and not os.path.exists(tmp_path / "city.mmdb")
    trusted = enricher(tmp_path, ca_bundle=certs[0], **mm)        # the same server, trusted explicitly
    assert trusted.refresh(T0, wait=True), trusted.health()["maxmind_download"]
    assert os.path.exists(tmp_path / "city.mmdb")


def test_okta_poller_verifies_tls_by_default(tmp_path, server, monkeypatch):
    monkeypatch.setenv("BF_TEST_OKTA", "okta-token")
    server.routes["/api/v1/logs"] = lambda req: (200, {}, [])
    e = enricher(tmp_path, okta_url=server.url, okta_token_env="BF_TEST_OKTA")
    e.refresh(T0, wait=True)
    status = e.health()["identity_poller:okta"]
    assert status.startswith("error") and ("certificate" in status.lower() or "tls verification failed" in status.lower()), status
    assert server.requests == []
