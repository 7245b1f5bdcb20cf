"""Dashboard previews: every panel of every dashboard gets rows computed from events."""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "dashboards" / "preview"))
sys.path.insert(0, str(ROOT / "content"))

import build_pages  # noqa: E402
import rows  # noqa: E402
from lib import sources  # noqa: E402

T0 = 1793577600.0


def _env(t, sourcetype, **event):
    return json.dumps({"time": t, "host": "c1", "source": "s", "sourcetype": sourcetype, "event": event})


def _events(tmp_path):
    lines = [
        _env(T0 + 60, "boundaryflow:flow", src="10.40.0.11", dest="10.41.0.5", bytes=4 * 2**30, bytes_in=4 * 2**30,
             bytes_out=1000, flow_count=2, plane="ingestion", src_role="gpu_node", dest_role="storage",
             src_name="gpu-01", dest_name="nfs-01", dest_tier="flash"),
        _env(T0 + 400, "boundaryflow:flow", src="10.40.0.11", dest="10.41.0.5", bytes=2 * 2**30, bytes_in=0,
             bytes_out=2 * 2**30, flow_count=1, plane="checkpoint", src_role="gpu_node", dest_role="storage",
             src_name="gpu-01", dest_name="nfs-01", dest_tier="flash", job="train-a"),
        _env(T0 + 1000, "boundaryflow:flow", src="10.40.0.11", dest="10.41.0.5", bytes=2 * 2**30, bytes_in=0,
             bytes_out=2 * 2**30, flow_count=1, plane="checkpoint", src_role="gpu_node", dest_role="storage",
             src_name="gpu-01", dest_name="nfs-01", dest_tier="flash", job="train-a"),
        _env(T0 + 500, "boundaryflow:flow", src="81.2.69.162", dest="10.42.0.10", bytes=5000, bytes_in=4000,
             bytes_out=1000, flow_count=3, plane="inference", dest_role="inference", dest_name="llm-01",
             src_country="GB", src_lat=51.5, src_lon=-0.09),
        _env(T0 + 600, "boundaryflow:flow", src="10.40.0.11", dest="198.51.100.9", bytes=9000, bytes_in=1000,
             bytes_out=8000, flow_count=1, plane="outbound", src_role="gpu_node", dest_country="US"),
        _env(T0 + 700, "boundaryflow:finding", signature="exfil_burst", severity="high", src="10.40.0.11",
             dest="198.51.100.9", risk_object="10.40.0.11", dest_port=443, evidence={"bytes_out": 1}),
        _env(T0 + 800, "boundaryflow:health", scope="exporter", exporter="10.0.0.1", last_seen=T0 + 790,
             datagrams=10, flows=100, decode_errors=0, template_misses=1, sequence_gaps=2),
        _env(T0 + 800, "boundaryflow:health", scope="collector", exporter="_all", flows_in=100, events_out=50,
             reduction_ratio=2.0, late_records=0, socket_drops=0, queue_depth=0,
             enrichment={"enrich_geo_hit_rate": 0.9}),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    lookups = tmp_path / "lookups"
    lookups.mkdir()
    (lookups / "boundaryflow_assets.csv").write_text(
        "cidr,role,zone,name,tier,link_bps\n10.41.0.5/32,storage,ai,nfs-01,flash,100000000000\n")
    return path, lookups


def test_every_panel_has_rows(tmp_path):
    path, lookups = _events(tmp_path)
    data = rows.all_rows(rows.Events(str(path)), build_pages.Assets(str(lookups)))
    for stem, definition in sources.dashboards().items():
        preview = build_pages.preview_definition(definition, data[stem])     # raises if a panel has no rows
        assert all(ds["type"] == "ds.test" for ds in preview["dataSources"].values())
        assert "inputs" not in preview


def test_rows_match_the_panels_queries(tmp_path):
    path, lookups = _events(tmp_path)
    data = rows.all_rows(rows.Events(str(path)), build_pages.Assets(str(lookups)))
    ov = data["boundaryflow_overview"]
    assert ov["ds_findings_total"]["columns"] == [[1]]
    assert ov["ds_ai_hosts"]["columns"] == [[1]]                 # dc(src) of AI-role sources
    st = data["boundaryflow_storage"]
    assert [f["name"] for f in st["ds_pairs"]["fields"]] == ["storage_name", "gpu_name", "GiB"]
    assert st["ds_pairs"]["columns"] == [["nfs-01"], ["gpu-01"], [4.0]]      # ingestion only, in GiB
    ckpt = {f["name"]: col[0] for f, col in zip(st["ds_ckpt"]["fields"], st["ds_ckpt"]["columns"])}
    assert ckpt == {"job": "train-a", "checkpoints": 2, "cadence_minutes": 10, "avg_GiB": 2.0}
    util = {f["name"]: col[0] for f, col in zip(st["ds_util"]["fields"], st["ds_util"]["columns"])}
    assert util["link_Gbps"] == 100 and util["peak_pct"] == round(100 * 4 * 2**30 * 8 / 300 / 1e11, 1)
    fi = data["boundaryflow_findings"]
    assert fi["ds_origins"]["columns"] == [[51.5], [-0.1], [3]]
    he = data["boundaryflow_health"]
    assert he["ds_exp_count"]["columns"] == [[1]]
