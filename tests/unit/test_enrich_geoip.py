"""GeoIP/ASN against MaxMind's official test databases and corrupt samples (from the maxminddb
sdist; scripts/fetch_test_data.sh puts them in .cache/maxmind-test-data/)."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess

import pytest

from boundaryflow import config
from boundaryflow.enrich import Enricher
from boundaryflow.enrich.geoip import KIND_ASN, KIND_CITY, GeoDatabase, city_fields
from boundaryflow.model import Flow

maxminddb = pytest.importorskip("maxminddb", reason="pip install maxminddb==2.8.2 (requirements-dev.txt)")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, ".cache", "maxmind-test-data")


@pytest.fixture(scope="module")
def mm():
    """The test-data directory, fetched on first use (idempotent script)."""
    if not os.path.exists(os.path.join(DATA, "test-data", "GeoIP2-City-Test.mmdb")):
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "fetch_test_data.sh")], check=True)
    return DATA


def db(mm, name):
    return os.path.join(mm, "test-data", name)


PURE_PYTHON_MODES = [maxminddb.MODE_MEMORY, maxminddb.MODE_FILE, maxminddb.MODE_MMAP]


@pytest.mark.parametrize("mode", [None] + PURE_PYTHON_MODES, ids=["auto", "memory", "file", "mmap"])
def test_known_addresses(mm, mode):
    city = GeoDatabase(db(mm, "GeoIP2-City-Test.mmdb"), KIND_CITY, mode)
    asn = GeoDatabase(db(mm, "GeoLite2-ASN-Test.mmdb"), KIND_ASN, mode)
    assert city.status.startswith("ok: ") and "GeoIP2-City" in city.status
    # what the database itself says (read raw) is what enrichment reports
    raw = maxminddb.open_database(db(mm, "GeoIP2-City-Test.mmdb"), maxminddb.MODE_MEMORY).get("2.125.160.216")
    assert raw["country"]["iso_code"] == "GB" and raw["city"]["names"]["en"] == "Boxford"
    assert city.lookup("2.125.160.216") == ("GB", "Boxford", raw["location"]["latitude"], raw["location"]["longitude"])
    assert city.lookup("81.2.69.160")[:2] == ("GB", "London")
    assert asn.lookup("1.128.0.0") == (1221, "Telstra Pty Ltd")
    assert city.lookup("10.1.2.3") is None and asn.lookup("192.0.2.1") is None
    assert city.lookup("not-an-ip") is None


def test_country_edition_gives_country_only(mm):
    c = GeoDatabase(db(mm, "GeoIP2-Country-Test.mmdb"), KIND_CITY, maxminddb.MODE_MEMORY)
    country, city, lat, lon = c.lookup("2.125.160.216")
    assert country == "GB" and city is None


def test_wrong_edition_is_refused(mm):
    c = GeoDatabase(db(mm, "GeoLite2-ASN-Test.mmdb"), KIND_CITY)
    assert c.status.startswith("error: ") and "not a City/Country database" in c.status
    assert not c.active and c.lookup("1.128.0.0") is None


CORRUPT = ["bad-data/*/*.mmdb", "test-data/GeoIP2-City-Test-Broken-Double-Format.mmdb",
           "test-data/GeoIP2-City-Test-Invalid-Node-Count.mmdb"]


def corrupt_samples():
    if not os.path.isdir(DATA):
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "fetch_test_data.sh")], check=True)
    out = []
    for pattern in CORRUPT:
        out.extend(sorted(glob.glob(os.path.join(DATA, pattern))))
    assert len(out) >= 10, "MaxMind corrupt samples missing"
    return out


@pytest.mark.parametrize("path", corrupt_samples(), ids=os.path.basename)
@pytest.mark.parametrize("mode", [None, maxminddb.MODE_MEMORY], ids=["auto", "pure-python"])
def test_corrupt_database_gives_health_message_and_enrichment_continues(tmp_path, path, mode):
    cfg = config.default(base_dir=str(tmp_path), enrichment_geoip_city_db=path, enrichment_geoip_asn_db=path)
    enricher = Enricher(cfg, geoip_mode=mode, background=False)
    flow = Flow()
    flow.src_ip, flow.dest_ip, flow.src_port, flow.dest_port, flow.protocol_number = \
        "10.0.0.1", "2.125.160.216", 40000, 443, 6
    enricher.enrich(flow)               # never raises
    health = enricher.health()
    for key in ("geoip_city", "geoip_asn"):
        assert health[key].startswith("error: %s: " % path), health[key]
    assert flow.dest_country is None and flow.dest_asn is None
    assert flow.app == "https" and flow.direction == "outbound" and flow.community_id


def test_missing_database_then_appears_is_loaded_on_refresh(tmp_path, mm):
    path = str(tmp_path / "city.mmdb")
    cfg = config.default(base_dir=str(tmp_path), enrichment_geoip_city_db=path)
    e = Enricher(cfg, background=False)
    assert e.health()["geoip_city"] == "error: %s: file not found" % path
    shutil.copy(db(mm, "GeoIP2-City-Test.mmdb"), path)
    assert e.refresh(1000.0)
    f = Flow()
    f.src_ip, f.dest_ip, f.protocol_number = "2.125.160.216", "10.0.0.1", 6
    e.enrich(f)
    assert (f.src_country, f.src_city) == ("GB", "Boxford")
    assert e.health()["geoip_city"].startswith("ok: ")


def test_replaced_database_is_reloaded_and_cache_dropped(tmp_path, mm):
    path = str(tmp_path / "geo.mmdb")
    shutil.copy(db(mm, "GeoIP2-Country-Test.mmdb"), path)
    e = Enricher(config.default(base_dir=str(tmp_path), enrichment_geoip_city_db=path), background=False)

    def city_of(ip):
        f = Flow()
        f.src_ip, f.dest_ip, f.protocol_number = ip, "10.0.0.1", 6
        e.enrich(f)
        return f.src_city

    assert city_of("2.125.160.216") is None                 # Country edition: no city
    shutil.copy(db(mm, "GeoIP2-City-Test.mmdb"), path + ".new")
    os.replace(path + ".new", path)                         # how a download swaps it in
    assert e.refresh(2000.0)
    assert city_of("2.125.160.216") == "Boxford"
    # a corrupt replacement keeps the good database in use and says so
    shutil.copy(db(mm, "GeoIP2-City-Test-Invalid-Node-Count.mmdb"), path + ".new")
    os.replace(path + ".new", path)
    e.refresh(3000.0)
    assert "still using the database loaded at" in e.health()["geoip_city"]
    assert city_of("81.2.69.160") == "London"


def test_neighbours_share_a_decoded_block_only_when_the_network_covers_it(mm):
    raw = maxminddb.open_database(db(mm, "GeoIP2-City-Test.mmdb"), maxminddb.MODE_MEMORY)
    city = GeoDatabase(db(mm, "GeoIP2-City-Test.mmdb"), KIND_CITY, maxminddb.MODE_MEMORY)
    # every address answers exactly what the database says, whatever was looked up before
    for a in ("2.125.160.216", "2.125.160.1", "2.125.160.250", "81.2.69.160", "81.2.69.1", "81.2.69.142",
              "81.2.69.144", "81.2.69.192", "89.160.20.112", "89.160.20.128", "216.160.83.56", "216.160.83.1"):
        assert city.lookup(a) == city_fields(raw.get(a)), a
    assert city._blocks == {}            # the test networks are all smaller than /24
    asn = GeoDatabase(db(mm, "GeoLite2-ASN-Test.mmdb"), KIND_ASN, maxminddb.MODE_MEMORY)
    assert asn.lookup("1.128.0.0") == (1221, "Telstra Pty Ltd")       # 1.128.0.0/11
    assert list(asn._blocks) == ["1.128.0"]
    assert asn.lookup("1.128.0.77") == (1221, "Telstra Pty Ltd")
