"""Enricher: assets, direction, cluster_direction, app, plane, identity/jobs time validity,
threat lookup, caches and reloads."""
from __future__ import annotations

import os
import textwrap

import pytest

from boundaryflow import config
from boundaryflow.enrich import Enricher
from boundaryflow.model import Flow, flow_event

ASSETS = """\
cidr,role,zone,name,tier,link_bps
10.10.0.0/16,gpu_node,ai-cluster,gpu-pool,,100000000000
10.10.9.9/32,gpu_node,ai-cluster,gpu-special,,
10.20.0.0/24,storage,ai-storage,nfs-01,hot,
10.30.0.0/24,inference,ai-serving,triton,,
10.40.0.0/24,management,ai-mgmt,bastion,,
172.16.5.0/24,workstation,office,,,
not-a-cidr,gpu_node,x,,,
"""
IDENTITY = """\
ip,user,start,end
172.16.5.10,alice,2026-01-05T08:00:00Z,2026-01-05T12:00:00Z
172.16.5.10,bob,2026-01-05T12:00:00+00:00,
198.51.100.7,carol@example.com,1767600000,1767603600
172.16.5.11,dave,garbage,
"""
JOBS = """\
ip,job,namespace,start,end
10.10.1.1,llama-pretrain,research,2026-01-05T00:00:00Z,2026-01-06T00:00:00Z
10.10.1.1,eval-suite,qa,2026-01-06T00:00:00Z,
10.30.0.5,chat-serving,prod,,
"""
THREAT = """\
indicator,source,category,confidence
203.0.113.0/24,analyst,c2,90
203.0.113.66,abuse_ch,botnet,80
2001:db8:bad::/48,analyst,scanner,50
bogus,x,y,1
"""
T0 = 1767600000.0          # 2026-01-05T08:00:00Z


def write(d, name, text):
    p = os.path.join(d, name)
    with open(p, "w") as fh:
        fh.write(textwrap.dedent(text))
    return p


@pytest.fixture
def lookups(tmp_path):
    d = str(tmp_path)
    write(d, "boundaryflow_assets.csv", ASSETS)
    write(d, "boundaryflow_identity.csv", IDENTITY)
    write(d, "boundaryflow_jobs.csv", JOBS)
    write(d, "boundaryflow_threat_intel.csv", THREAT)
    return d


@pytest.fixture
def enricher(lookups):
    return Enricher(config.default(base_dir=lookups, enrichment_lookups_dir=lookups), background=False)


def flow(src, dest, dport=443, sport=50000, proto=6, out=1000, inn=1000, end=T0, **kw):
    f = Flow()
    f.src_ip, f.dest_ip, f.src_port, f.dest_port, f.protocol_number = src, dest, sport, dport, proto
    f.bytes_out, f.bytes_in, f.end, f.start = out, inn, end, end - 10
    for k, v in kw.items():
        setattr(f, k, v)
    return f


def enriched(e, *a, **kw):
    f = flow(*a, **kw)
    e.enrich(f)
    return f


def test_assets_roles_zones_names_tiers_most_specific_wins(enricher):
    f = enriched(enricher, "10.10.9.9", "10.20.0.3", 2049)
    assert (f.src_role, f.src_zone, f.src_name) == ("gpu_node", "ai-cluster", "gpu-special")
    assert (f.dest_role, f.dest_zone, f.dest_name, f.dest_tier) == ("storage", "ai-storage", "nfs-01", "hot")
    assert f.src_tier is None                       # empty cell -> not set
    assert "bad rows" in enricher.health()["assets"]


@pytest.mark.parametrize("src,dest,direction", [
    ("10.10.0.1", "8.8.8.8", "outbound"), ("8.8.8.8", "10.30.0.5", "inbound"),
    ("10.10.0.1", "172.16.5.10", None), ("8.8.8.8", "1.1.1.1", None),
    ("fc00::1", "2001:4860::8888", "outbound"),
])
def test_cim_direction(enricher, src, dest, direction):
    f = enriched(enricher, src, dest)
    assert f.direction == direction
    assert f.src_internal == (direction == "outbound" or src.startswith(("10.", "172.", "fc00")))


@pytest.mark.parametrize("src,dest,cluster", [
    ("10.10.0.1", "8.8.8.8", "egress"), ("172.16.5.10", "10.30.0.5", "ingress"),
    ("10.10.0.1", "10.20.0.3", "internal"), ("172.16.5.10", "8.8.8.8", None),
])
def test_cluster_direction(enricher, src, dest, cluster):
    assert enriched(enricher, src, dest).cluster_direction == cluster


def test_app_from_table_vendor_app_kept_and_unknown_left_for_model(enricher):
    assert enriched(enricher, "10.10.0.1", "10.20.0.3", 2049).app == "nfs"
    assert enriched(enricher, "10.10.0.1", "10.40.0.1", 10250).app == "kubelet"
    assert enriched(enricher, "10.10.0.1", "10.40.0.1", 623, proto=17).app == "ipmi"
    # unoriented reply: the service port is the source port
    assert enriched(enricher, "10.10.0.1", "10.40.0.1", 51000, sport=6443).app == "kube-apiserver"
    assert enriched(enricher, "10.10.0.1", "8.8.8.8", 443, app="ssl").app == "ssl"
    f = enriched(enricher, "10.10.0.1", "8.8.8.8", 31337, sport=40000)
    assert f.app is None and flow_event(f)["app"] == "tcp/31337"


def test_plane_ingestion_and_checkpoint_follow_the_bytes(enricher):
    # GPU reads a dataset from NFS: the GPU initiates, storage sends -> bytes_in dominate
    assert enriched(enricher, "10.10.0.1", "10.20.0.3", 2049, out=10 ** 4, inn=10 ** 9).plane == "ingestion"
    # GPU writes a checkpoint: bytes_out (sent by the GPU) dominate
    assert enriched(enricher, "10.10.0.1", "10.20.0.3", 2049, out=10 ** 9, inn=10 ** 4).plane == "checkpoint"
    # storage pushes to a GPU node (storage initiates): bytes_out storage -> GPU
    assert enriched(enricher, "10.20.0.3", "10.10.0.1", 9000, out=10 ** 9, inn=10 ** 4).plane == "ingestion"
    assert enriched(enricher, "10.20.0.3", "10.10.0.1", 9000, out=10 ** 4, inn=10 ** 9).plane == "checkpoint"


def test_plane_inference_management_outbound_other(enricher):
    assert enriched(enricher, "8.8.8.8", "10.30.0.5", 8000).plane == "inference"
    assert enriched(enricher, "8.8.8.8", "10.30.0.5", 9999).plane == "other"        # not an inference port
    assert enriched(enricher, "10.40.0.1", "10.10.0.1", 22).plane == "management"
    assert enriched(enricher, "172.16.5.10", "10.20.0.3", 6443).plane == "management"
    assert enriched(enricher, "10.10.0.1", "8.8.8.8", 443).plane == "outbound"
    assert enriched(enricher, "8.8.8.8", "10.10.0.1", 443).plane == "other"          # inbound to GPU, not inference
    assert enriched(enricher, "172.16.5.10", "8.8.8.8", 443).plane == "other"
    assert enriched(enricher, "10.10.0.1", "172.16.5.10", 443).plane == "other"      # internal, not external


def test_identity_is_time_valid(enricher):
    at = lambda hours: T0 + hours * 3600     # noqa: E731
    assert enriched(enricher, "172.16.5.10", "8.8.8.8", end=at(1)).src_user == "alice"
    assert enriched(enricher, "172.16.5.10", "8.8.8.8", end=at(6)).src_user == "bob"     # after 12:00
    assert enriched(enricher, "172.16.5.10", "8.8.8.8", end=at(-1)).src_user is None    # before 08:00
    # epoch-bounded row; dest side too
    assert enriched(enricher, "10.30.0.5", "198.51.100.7", end=T0 + 60).dest_user == "carol@example.com"
    assert enriched(enricher, "10.30.0.5", "198.51.100.7", end=T0 + 7200).dest_user is None
    # a vendor-set user (User-ID) is kept
    assert enriched(enricher, "172.16.5.10", "8.8.8.8", end=at(1), src_user="ALICE-ad").src_user == "ALICE-ad"
    assert "1 bad rows" in enricher.health()["identity"]


def test_jobs_are_time_bounded(enricher):
    day = 86400
    f = enriched(enricher, "10.10.1.1", "10.20.0.3", 2049, end=T0)
    assert (f.job, f.namespace) == ("llama-pretrain", "research")
    f = enriched(enricher, "10.10.1.1", "10.20.0.3", 2049, end=T0 + day)
    assert (f.job, f.namespace) == ("eval-suite", "qa")
    f = enriched(enricher, "8.8.8.8", "10.30.0.5", 8000)          # responder's job
    assert (f.job, f.namespace) == ("chat-serving", "prod")
    assert enriched(enricher, "10.10.1.2", "8.8.8.8").job is None


def test_threat_lookup_longest_prefix_both_ends(enricher):
    f = enriched(enricher, "10.10.0.1", "203.0.113.66")
    assert (f.threat_match, f.threat_source, f.threat_category) == ("203.0.113.66", "abuse_ch", "botnet")
    f = enriched(enricher, "203.0.113.9", "10.30.0.5", 8000)
    assert (f.threat_match, f.threat_source, f.threat_category) == ("203.0.113.9", "analyst", "c2")
    f = enriched(enricher, "2001:db8:bad::5", "fc00::1")
    assert f.threat_category == "scanner"
    assert enriched(enricher, "10.10.0.1", "8.8.8.8").threat_match is None
    h = enricher.health()
    assert h["threat_indicators"] == 3 and "1 bad lines" in h["threat_lookup"]


def test_lookup_changes_are_picked_up_and_cache_dropped(enricher, lookups):
    assert enriched(enricher, "10.50.0.1", "8.8.8.8").src_role is None
    with open(os.path.join(lookups, "boundaryflow_assets.csv"), "a") as fh:
        fh.write("10.50.0.0/24,gpu_node,ai-cluster-2,new-pod,,\n")
    assert enricher.refresh(T0 + 1)
    f = enriched(enricher, "10.50.0.1", "8.8.8.8")
    assert (f.src_role, f.cluster_direction, f.plane) == ("gpu_node", "egress", "outbound")
    assert not enricher.refresh(T0 + 2)                # nothing changed: cache kept
    os.remove(os.path.join(lookups, "boundaryflow_threat_intel.csv"))
    assert enricher.refresh(T0 + 3)
    assert enriched(enricher, "10.10.0.1", "203.0.113.66").threat_match is None
    assert enricher.health()["threat_lookup"].startswith("absent: ")


def test_cache_is_bounded_and_health_reports_hit_rates(lookups):
    e = Enricher(config.default(base_dir=lookups, enrichment_lookups_dir=lookups, enrichment_cache_size="1000"),
                 background=False)
    for i in range(3000):
        enriched(e, "10.10.0.1", "8.%d.%d.1" % (i // 250, i % 250))
    h = e.health()
    assert h["enrich_cached_addresses"] <= 1000
    assert h["enrich_flows"] == 3000
    assert 0.45 < h["enrich_cache_hit_rate"] < 0.55        # src always cached, dest never
    for _i in range(100):
        enriched(e, "10.10.0.1", "10.20.0.3", 2049)
    assert e.health()["enrich_cache_hit_rate"] > h["enrich_cache_hit_rate"]
    assert e.health()["geoip_city"].startswith("disabled")


def test_community_id_on_every_flow_and_stable_across_orientation(enricher):
    a = enriched(enricher, "10.10.0.1", "8.8.8.8", 443, sport=50000)
    b = enriched(enricher, "8.8.8.8", "10.10.0.1", 50000, sport=443)
    assert a.community_id == b.community_id and a.community_id.startswith("1:")
    icmp = enriched(enricher, "10.10.0.1", "8.8.8.8", 0, sport=0, proto=1, icmp_type=8, icmp_code=0)
    assert icmp.community_id.startswith("1:")


def test_event_carries_enrichment(enricher):
    ev = flow_event(enriched(enricher, "10.10.1.1", "10.20.0.3", 2049, out=10, inn=10 ** 8))
    for k, v in {"src_role": "gpu_node", "dest_role": "storage", "plane": "ingestion", "app": "nfs",
                 "cluster_direction": "internal", "job": "llama-pretrain", "dest_zone": "ai-storage"}.items():
        assert ev[k] == v


@pytest.mark.parametrize("text,want", [
    ("1767600000", T0), ("1767600000.5", T0 + 0.5), ("2026-01-05T08:00:00Z", T0),
    ("2026-01-05T08:00:00.000Z", T0), ("2026-01-05T08:00:00.1234567Z", T0 + 0.123456),
    ("2026-01-05T09:00:00+01:00", T0), ("2026-01-05 08:00:00", T0), ("2026-01-05T08:00:00.5", T0 + 0.5),
])
def test_time_formats(text, want):
    from boundaryflow.enrich.timed import parse_time
    assert parse_time(text) == pytest.approx(want, abs=1e-6)


def test_ipv6_lookup_rows_in_any_spelling_and_role_case(tmp_path):
    d = str(tmp_path)
    write(d, "boundaryflow_identity.csv", "ip,user,start,end\n2001:DB8:0:0:0:0:0:7,erin,,\n")
    write(d, "boundaryflow_jobs.csv", "ip,job,namespace,start,end\n2001:db8:0::9,train-x,ml,,\n")
    write(d, "boundaryflow_assets.csv", "cidr,role,zone,name,tier,link_bps\n2001:db8::/64,GPU_Node,ai,,,\n")
    e = Enricher(config.default(base_dir=d, enrichment_lookups_dir=d), background=False)
    f = enriched(e, "2001:db8::7", "2001:db8::9", 2049)
    assert (f.src_user, f.job, f.src_role, f.cluster_direction) == ("erin", "train-x", "gpu_node", "internal")
