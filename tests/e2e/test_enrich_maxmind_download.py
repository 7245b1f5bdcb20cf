"""Automatic MaxMind database download from a loopback HTTPS server shaped like
download.maxmind.com (``/geoip/databases/{edition}/download?suffix=tar.gz|tar.gz.sha256``, HTTP
basic auth with account id and license key): checksum verified, atomic swap, old database kept on
any failure."""
from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import sys
import tarfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from boundaryflow import config  # noqa: E402
from boundaryflow.enrich import Enricher  # noqa: E402
from boundaryflow.model import Flow  # noqa: E402

pytest.importorskip("requests", reason="pip install requests (requirements-dev.txt)")
pytestmark = pytest.mark.e2e
pytest.importorskip("maxminddb", reason="pip install maxminddb (requirements-dev.txt)")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, ".cache", "maxmind-test-data", "test-data")
T0 = 1767600000.0


@pytest.fixture(scope="module")
def mmdb():
    if not os.path.exists(os.path.join(DATA, "GeoIP2-City-Test.mmdb")):
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "fetch_test_data.sh")], check=True)
    return lambda name: open(os.path.join(DATA, name), "rb").read()


def tarball(edition, data, date="20260105"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in (("COPYRIGHT.txt", b"test"), ("%s.mmdb" % edition, data)):
            info = tarfile.TarInfo("%s_%s/%s" % (edition, date, name))
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


class MaxMindSite(object):
    """What download.maxmind.com serves: per edition a tar.gz and its sha256 file."""

    def __init__(self, server, account="123456", key="lic-key"):
        self.files = {}
        self.auth = "Basic " + base64.b64encode(("%s:%s" % (account, key)).encode()).decode()
        self.bad_checksum = False
        for edition in ("GeoLite2-City", "GeoLite2-ASN"):
            server.routes["/geoip/databases/%s/download" % edition] = self.handler(edition)

    def publish(self, edition, data):
        self.files[edition] = tarball(edition, data)

    def handler(self, edition):
        def serve(req):
            if req.headers.get("Authorization") != self.auth:
                return 401, {}, "Invalid license key"
            body = self.files[edition]
            suffix = req.query.get("suffix", [""])[0]
            if suffix == "tar.gz.sha256":
                digest = hashlib.sha256(body).hexdigest() if not self.bad_checksum else "0" * 64
                return 200, {"Content-Type": "text/plain"}, "%s  %s_20260105.tar.gz\n" % (digest, edition)
            if suffix == "tar.gz":
                return 200, {"Content-Type": "application/gzip"}, body
            return 400, {}, "bad suffix"
        return serve


@pytest.fixture
def site(server, mmdb):
    s = MaxMindSite(server)
    s.publish("GeoLite2-City", mmdb("GeoIP2-City-Test.mmdb"))
    s.publish("GeoLite2-ASN", mmdb("GeoLite2-ASN-Test.mmdb"))
    return s


def make(tmp_path, server, certs, monkeypatch, key="lic-key"):
    monkeypatch.setenv("BF_TEST_MAXMIND_KEY", key)
    cfg = config.from_mapping({
        "collector": {"state_dir": str(tmp_path / "state")},
        "enrichment": {"lookups_dir": str(tmp_path), "maxmind_account_id": "123456",
                       "maxmind_license_key_env": "BF_TEST_MAXMIND_KEY", "ca_bundle": certs[0],
                       "maxmind_download_url": server.url + "/geoip/databases",
                       "geoip_city_db": str(tmp_path / "city.mmdb")},
    }, base_dir=str(tmp_path))
    return Enricher(cfg, background=False)


def geo(e, ip):
    f = Flow()
    f.src_ip, f.dest_ip, f.protocol_number = "10.0.0.1", ip, 6
    e.enrich(f)
    return f.dest_country, f.dest_city, f.dest_asn


def test_download_verify_swap_and_skip_when_current(tmp_path, server, certs, site, monkeypatch):
    e = make(tmp_path, server, certs, monkeypatch)
    assert geo(e, "2.125.160.216") == (None, None, None)
    assert e.refresh(T0, wait=True), e.health()["maxmind_download"]
    assert geo(e, "2.125.160.216") == ("GB", "Boxford", None)
    assert geo(e, "1.128.0.0")[2] == 1221
    # the ASN edition had no file configured: it lives in the state directory
    assert os.path.exists(tmp_path / "state" / "geoip" / "GeoLite2-ASN.mmdb")
    assert e.health()["maxmind_download"] == "ok: GeoLite2-City updated; GeoLite2-ASN updated"
    n = len(server.requests)
    assert not e.refresh(T0 + 8 * 86400, wait=True)          # same checksum: nothing downloaded
    assert [r.query["suffix"][0] for r in server.requests[n:]] == ["tar.gz.sha256"] * 2
    assert e.health()["maxmind_download"] == "ok: GeoLite2-City current; GeoLite2-ASN current"


def test_failures_keep_the_installed_database(tmp_path, server, certs, site, mmdb, monkeypatch):
    e = make(tmp_path, server, certs, monkeypatch)
    e.refresh(T0, wait=True)
    city = tmp_path / "city.mmdb"
    before = city.read_bytes()
    # 1. the published checksum does not match the archive
    site.publish("GeoLite2-City", mmdb("GeoIP2-Country-Test.mmdb"))
    site.bad_checksum = True
    e.refresh(T0 + 8 * 86400, wait=True)
    assert "checksum mismatch" in e.health()["maxmind_download"]
    assert city.read_bytes() == before and geo(e, "2.125.160.216")[1] == "Boxford"
    # 2. a corrupt database with a correct checksum
    site.bad_checksum = False
    site.publish("GeoLite2-City", mmdb("GeoIP2-City-Test-Invalid-Node-Count.mmdb"))
    e.refresh(T0 + 16 * 86400, wait=True)
    assert "downloaded GeoLite2-City is not usable: invalid database" in e.health()["maxmind_download"]
    assert city.read_bytes() == before and geo(e, "81.2.69.160")[1] == "London"
    assert [p for p in os.listdir(tmp_path) if p.startswith(".maxmind-")] == []     # no temp leftovers
    # 3. a wrong license key
    e2 = make(tmp_path, server, certs, monkeypatch, key="wrong")
    e2.refresh(T0, wait=True)
    assert "HTTP 401" in e2.health()["maxmind_download"]
    assert geo(e2, "2.125.160.216")[1] == "Boxford"                  # the file on disk is still good


def test_missing_license_key_is_reported(tmp_path, server, certs, site, monkeypatch):
    e = make(tmp_path, server, certs, monkeypatch)
    monkeypatch.delenv("BF_TEST_MAXMIND_KEY")
    e.refresh(T0, wait=True)
    assert e.health()["maxmind_download"] == \
        "error: environment variable BF_TEST_MAXMIND_KEY (maxmind_license_key_env) is not set"
    assert server.requests == []
