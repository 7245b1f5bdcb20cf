"""Builders shared by the test_detect_* tests (no tests here): enriched, oriented Flow records the
way track + enrich hand them to the detection engine, and an engine over temporary lookups."""
from __future__ import annotations

import ipaddress
import os

from boundaryflow import config
from boundaryflow.detect import DetectionEngine
from boundaryflow.model import Flow

# Tuesday 2023-11-14 22:13:20 UTC; tests use offsets from here.
T0 = 1700000000.0
MIN, HOUR, DAY = 60.0, 3600.0, 86400.0
MiB, GiB = 1024 ** 2, 1024 ** 3

GPU, GPU2 = "10.1.0.10", "10.1.0.11"
STORAGE = "10.2.0.10"
INFER = "10.3.0.10"
MGMT = "10.4.0.10"
LAPTOP, LAPTOP2 = "10.9.0.50", "10.9.0.51"
EXT, EXT2 = "198.51.100.7", "198.51.100.8"
BACKUP = "192.0.2.10"              # external, on the egress allowlist in make_engine's default
BAD = "203.0.113.66"               # a threat-intel indicator in the tests that need one

ROLES = {GPU: "gpu_node", GPU2: "gpu_node", STORAGE: "storage", INFER: "inference", MGMT: "management",
         LAPTOP: "workstation", LAPTOP2: "workstation"}
_INTERNAL = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")]


def internal(addr):
    ip = ipaddress.ip_address(addr)
    return any(ip in n for n in _INTERNAL)


def flow(src=GPU, dest=EXT, sport=40000, dport=443, proto=6, end=T0, duration=1.0, bytes_out=1000,
         bytes_in=1000, start=None, sampling_rate=1, exporter="10.0.0.1", **attrs):
    """One oriented, enriched record: src initiated; roles and internal flags as enrich sets them."""
    f = Flow()
    f.src_ip, f.dest_ip, f.src_port, f.dest_port, f.protocol_number = src, dest, sport, dport, proto
    f.end = float(end)
    f.start = float(end - duration) if start is None else float(start)
    f.bytes_out, f.bytes_in = bytes_out, bytes_in
    f.packets_out, f.packets_in = max(1, bytes_out // 1000), max(1, bytes_in // 1000)
    f.sampling_rate = sampling_rate
    f.exporter = exporter
    f.oriented = True
    f.src_role, f.dest_role = ROLES.get(src, "other"), ROLES.get(dest, "other")
    f.src_internal, f.dest_internal = internal(src), internal(dest)
    for k, v in attrs.items():
        setattr(f, k, v)
    return f


def write_lookup(lookups_dir, name, cidrs):
    os.makedirs(lookups_dir, exist_ok=True)
    with open(os.path.join(lookups_dir, name), "w") as fh:
        fh.write("cidr,description\n")
        for c in cidrs:
            fh.write("%s,test entry %s\n" % (c, c))


def make_engine(tmp_path, egress=(BACKUP,), inference=(LAPTOP,), management=(MGMT,), limits=None, **overrides):
    """An engine whose lookups and state live under tmp_path; ``overrides`` are config.default()
    keys, e.g. detection_learning_period='1h'. Learning defaults to 1 h to keep tests short."""
    lookups = os.path.join(str(tmp_path), "lookups")
    write_lookup(lookups, "boundaryflow_egress_allowlist.csv", egress)
    write_lookup(lookups, "boundaryflow_inference_allowlist.csv", inference)
    write_lookup(lookups, "boundaryflow_management_allowlist.csv", management)
    overrides.setdefault("detection_learning_period", "1h")
    cfg = config.default(enrichment_lookups_dir=lookups, **overrides)
    return DetectionEngine(cfg, os.path.join(str(tmp_path), "state"), limits=limits)


def reopen(engine, tmp_path, **overrides):
    """Save and build a new engine on the same state dir and lookups (a restart)."""
    engine.save()
    overrides.setdefault("detection_learning_period", "1h")
    cfg = config.default(enrichment_lookups_dir=os.path.join(str(tmp_path), "lookups"), **overrides)
    return DetectionEngine(cfg, os.path.join(str(tmp_path), "state"), limits=engine.limits)


def run(engine, flows):
    """Process records in order; all findings."""
    out = []
    for f in flows:
        out.extend(engine.process(f))
    return out


def names(findings):
    return [f.signature for f in findings]


def of(findings, signature):
    return [f for f in findings if f.signature == signature]


def learn(engine, t=T0):
    """Start learning at t with an unremarkable internal record (ingestion storage -> GPU)."""
    return engine.process(flow(src=GPU, dest=STORAGE, dport=2049, end=t))
