"""The scenario's address plan and the lookups it writes (DESIGN.md §5 columns)."""
import csv
import ipaddress
import os

import pytest

from boundaryflow.lookups import load_cidr_lookup, read_lookup
from boundaryflow.scenario.model import AI_ROLES, LOOKUP_COLUMNS, Plan, write_lookups

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CITY_DB = os.path.join(ROOT, ".cache", "maxmind-test-data", "test-data", "GeoIP2-City-Test.mmdb")

# DESIGN.md §5, written out independently of the module under test
EXPECTED_COLUMNS = {
    "boundaryflow_assets.csv": ["cidr", "role", "zone", "name", "tier", "link_bps"],
    "boundaryflow_egress_allowlist.csv": ["cidr", "description"],
    "boundaryflow_inference_allowlist.csv": ["cidr", "description"],
    "boundaryflow_management_allowlist.csv": ["cidr", "description"],
    "boundaryflow_threat_intel.csv": ["indicator", "source", "category", "confidence"],
    "boundaryflow_identity.csv": ["ip", "user", "start", "end"],
    "boundaryflow_jobs.csv": ["ip", "job", "namespace", "start", "end"],
}


@pytest.fixture(scope="module")
def lookups(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("lookups"))
    write_lookups(d, start=1793577600)
    return d


def test_every_lookup_has_the_design_columns(lookups):
    assert set(EXPECTED_COLUMNS) == set(LOOKUP_COLUMNS)
    for name, cols in EXPECTED_COLUMNS.items():
        with open(os.path.join(lookups, name), newline="") as fh:
            header = next(csv.reader(fh))
        assert header == cols, name
        rows, bad = read_lookup(os.path.join(lookups, name), required=cols)
        assert rows and bad == 0, name


def test_assets_give_every_planned_host_its_role(lookups):
    plan = Plan.load()
    assets, bad = load_cidr_lookup(os.path.join(lookups, "boundaryflow_assets.csv"), ("role", "zone", "name"))
    assert bad == 0
    for h in plan.internal_hosts():
        row = assets.lookup(h.ip)
        assert row["role"] == h.role and row["name"] == h.name
    roles = {h.role for h in plan.internal_hosts()}
    assert set(AI_ROLES) <= roles and roles - set(AI_ROLES), "needs AI and non-AI hosts"
    for h in plan.partners[0]["hosts"] + plan.web:
        assert assets.lookup(h.ip) is None


def test_allowlists_encode_the_policy(lookups):
    plan = Plan.load()
    inf, _ = load_cidr_lookup(os.path.join(lookups, "boundaryflow_inference_allowlist.csv"), ("description",))
    egress, _ = load_cidr_lookup(os.path.join(lookups, "boundaryflow_egress_allowlist.csv"), ("description",))
    mgmt, _ = load_cidr_lookup(os.path.join(lookups, "boundaryflow_management_allowlist.csv"), ("description",))
    for p in plan.partners:
        assert all(h.ip in inf for h in p["hosts"])
    assert all(h.ip not in inf for h in plan.unlisted_clients + plan.hosts("guests"))
    assert all(h.ip in inf for h in plan.hosts("users"))
    for r in plan.repos:
        assert all(h.ip in egress for h in r["hosts"])
    assert all(h.ip in egress for h in plan.offsite_backup)
    assert all(h.ip not in egress for h in plan.telemetry + plan.file_share)
    assert all(h.ip in mgmt for h in plan.hosts("mgmt") + plan.hosts("admins"))
    assert all(h.ip not in mgmt for h in plan.hosts("users") if h.ip not in {a.ip for a in plan.hosts("admins")})
    # attack destinations are neither allowlisted nor internal
    internal = [ipaddress.ip_network(c) for c in plan.internal_networks.split(",")]
    for net in plan.attack_destinations:
        probe = str(net.network_address + 1)
        assert probe not in egress
        assert not any(net.subnet_of(i) for i in internal if i.version == net.version)


def test_identity_and_jobs_cover_users_and_gpu_nodes(lookups):
    plan = Plan.load()
    ident, _ = read_lookup(os.path.join(lookups, "boundaryflow_identity.csv"))
    jobs, _ = read_lookup(os.path.join(lookups, "boundaryflow_jobs.csv"))
    assert {r["ip"] for r in ident} >= {h.ip for h in plan.hosts("users")}
    assert len({r["user"] for r in ident}) == len(ident)
    assert {r["ip"] for r in jobs} >= {h.ip for h in plan.hosts("gpu")}
    assert all(r["start"] == "1793577600" and r["end"] == "" for r in jobs)


def test_external_clients_have_the_country_the_plan_says():
    """Inference clients come from MaxMind's GeoIP2-City-Test database, so geo is known."""
    maxminddb = pytest.importorskip("maxminddb")
    if not os.path.exists(CITY_DB):
        pytest.skip("MaxMind test data absent: run scripts/fetch_test_data.sh")
    plan = Plan.load()
    with maxminddb.open_database(CITY_DB) as db:
        hosts = [h for p in plan.partners for h in p["hosts"]] + plan.unlisted_clients
        for h in hosts:
            rec = db.get(h.ip)
            assert rec and rec["country"]["iso_code"] == h.country, h
