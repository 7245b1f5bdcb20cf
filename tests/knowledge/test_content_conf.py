"""The generated .conf files: up to date with content/, and following Enterprise Security conventions."""
import csv
import json
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "content"))

from lib import inventory, sources  # noqa: E402

SAVED = inventory.Conf(ROOT / "package" / "default" / "savedsearches.conf").stanzas
DETECTIONS = sources.detections()
RULES = {sources.rule_name(d): d for d in DETECTIONS}


def _signatures():
    path = ROOT / "package" / "bin" / "boundaryflow" / "data" / "signatures.csv"
    with open(path, newline="") as fh:
        rows = [r for r in csv.reader(line for line in fh if not line.startswith("#"))]
    header = rows[0]
    return {r[0]: dict(zip(header, r)) for r in rows[1:] if r}


def test_generated_files_are_up_to_date():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_content.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, "run scripts/gen_content.py and commit: " + proc.stdout


def test_one_correlation_search_per_detector_signature():
    sigs = _signatures()
    found = {}
    for det in DETECTIONS:
        m = re.search(r'signature="(\w+)"', det["search"])
        if m and det["data_source"] == ["Boundary Flow Finding"]:
            found.setdefault(m.group(1), []).append(det["name"])
    assert sorted(found) == sorted(sigs)
    assert all(len(v) == 1 for v in found.values()), found


def test_correlation_searches_agree_with_the_detector_metadata():
    """Risk score and ATT&CK technique of each correlation search are the detector's (signatures.csv)."""
    sigs = _signatures()
    for det in DETECTIONS:
        m = re.search(r'signature="(\w+)"', det["search"])
        if not m:
            continue
        sig = sigs[m.group(1)]
        assert det["rba"]["risk_objects"][0]["score"] == int(sig["risk_score"]), det["name"]
        assert det["tags"]["mitre_attack_id"][0] == sig["mitre_technique"], det["name"]


@pytest.mark.parametrize("name", sorted(RULES))
def test_correlation_search_follows_es_conventions(name):
    det, st = RULES[name], SAVED[name]
    assert st["disabled"] == "1", "correlation searches ship disabled"
    assert st["action.correlationsearch.enabled"] == "1"
    assert st["action.correlationsearch.label"] == name
    annotations = json.loads(st["action.correlationsearch.annotations"])
    assert annotations["mitre_attack"] == det["tags"]["mitre_attack_id"]
    assert all(re.match(r"^T\d{4}(\.\d{3})?$", t) for t in annotations["mitre_attack"])
    risk = json.loads(st["action.risk.param._risk"])
    objects = [r for r in risk if "risk_object_field" in r]
    assert st["action.risk"] == "1" and objects
    assert all(r["risk_object_type"] in ("system", "user", "other") and 0 < r["risk_score"] <= 100 for r in objects)
    filter_macro = "`%s`" % sources.filter_macro(det)
    assert st["search"].rstrip().endswith(filter_macro)
    assert sources.filter_macro(det) in inventory.macros()
    if det["type"] == "TTP":
        assert st["action.notable"] == "1"
        for key in ("rule_title", "rule_description", "security_domain", "severity", "drilldown_name",
                    "drilldown_search", "drilldown_searches"):
            assert st.get("action.notable.param." + key), key
        assert st["action.notable.param.severity"] in ("informational", "low", "medium", "high", "critical")
        drilldowns = json.loads(st["action.notable.param.drilldown_searches"])
        assert drilldowns and all("%original_detection_search%" not in d["search"] for d in drilldowns)
    else:
        assert st["action.notable"] == "0", "anomalies feed risk only"


@pytest.mark.parametrize("name", sorted(n for n, d in RULES.items() if d["data_source"] == ["Boundary Flow Finding"]))
def test_finding_searches_select_by_index_time(name):
    """Late findings (spool, lateness) are picked up: contiguous index-time windows, wide event time."""
    st = SAVED[name]
    m_early = re.search(r"_index_earliest=(-\d+)m@m", st["search"])
    m_late = re.search(r"_index_latest=(-\d+)m@m", st["search"])
    assert m_early and m_late
    window = int(m_late.group(1)) - int(m_early.group(1))
    cron = st["cron_schedule"]
    assert cron.startswith("*/") and int(cron.split()[0][2:]) == window, "index windows must tile the schedule"
    assert st["dispatch.earliest_time"] in ("-7d", "-30d", "-3d")
    assert "_index_" not in st.get("action.notable.param.drilldown_search", ""), "drilldowns are not index-bounded"


def test_threat_intel_search_documents_coexistence_with_es_threat_activity():
    det = next(d for d in DETECTIONS if 'signature="threat_intel_match"' in d["search"])
    assert "Threat Activity" in det["description"] and "suppress" in det["description"]
    st = SAVED[sources.rule_name(det)]
    assert st["alert.suppress"] == "1" and st["alert.suppress.period"] == "24h"


def test_reports_and_lookup_builders():
    names = {r["name"] for r in sources.reports()}
    for needed in ("Boundary Flow - Storage To GPU Node Traffic", "Boundary Flow - Storage Link Utilization",
                   "Boundary Flow - Busiest Storage Tiers", "Boundary Flow - Checkpoint Cadence By Job",
                   "Boundary Flow - Inference Baseline Vs Now By Endpoint",
                   "Boundary Flow - Inference Baseline Vs Now By Country", "Boundary Flow - Management Connections",
                   "Boundary Flow - Top External Destinations Of AI Hosts", "Boundary Flow - Collector Health",
                   "Boundary Flow - Exporter Silent", "Boundary Flow - Build Identity Lookup",
                   "Boundary Flow - Export AI Assets For Enterprise Security"):
        assert needed in names and needed in SAVED, needed
    silent = SAVED["Boundary Flow - Exporter Silent"]
    assert silent["enableSched"] == "1" and silent["disabled"] == "1" and silent["alert.suppress.fields"]
    identity = SAVED["Boundary Flow - Build Identity Lookup"]["search"]
    assert "datamodel=Authentication.Authentication" in identity
    assert identity.rstrip().endswith("| table ip user start end | outputlookup boundaryflow_identity")
    assets = SAVED["Boundary Flow - Export AI Assets For Enterprise Security"]["search"]
    es_columns = ("ip mac nt_host dns owner priority lat long city country bunit category pci_domain is_expected "
                  "should_timesync should_update requires_av")
    assert "| table %s | outputlookup" % es_columns in assets


def test_index_macro_defaults_to_main_and_is_documented():
    macros = inventory.Conf(ROOT / "package" / "default" / "macros.conf").stanzas
    assert macros["boundaryflow_index"]["definition"] == "index=main"
    assert "override" in macros["boundaryflow_index"]["description"]


def test_navigation_lists_ucc_pages_dashboards_and_search():
    nav = (ROOT / "package" / "default" / "data" / "ui" / "nav" / "default.xml").read_text()
    views = set(re.findall(r'<view name="([\w]+)"', nav))
    assert {"inputs", "configuration", "search"} <= views
    dashboards = {p.stem for p in (ROOT / "package" / "default" / "data" / "ui" / "views").glob("*.xml")}
    assert dashboards and dashboards <= views
