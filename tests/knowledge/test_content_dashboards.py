"""The Dashboard Studio views validate with Splunk's own validator (@splunk/dashboard-validation 29.6.0:
DashboardValidator with the schema of createSchemaBasedOnPresets over the Enterprise preset, run in
node by tools/dashboards/validate.js). npm packages install from tools/dashboards/package-lock.json."""
import json
import pathlib
import re
import shutil
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "content"))

from lib import dashboards, sources  # noqa: E402

VIEWS = sorted((ROOT / "package" / "default" / "data" / "ui" / "views").glob("*.xml"))
EXPECTED = {"AI Cluster Boundary Overview", "Storage and Checkpoints", "Inference", "Security Findings",
            "Collector Health"}

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (build.sh installs nodejs)")


@pytest.fixture(scope="module")
def validator_ready():
    assert dashboards.ensure_node_modules()


def test_views_are_dashboard_studio_with_the_expected_titles():
    titles = set()
    for view in VIEWS:
        text = view.read_text()
        assert text.startswith('<dashboard version="2" theme="dark">')
        definition = json.loads(re.search(r"<!\[CDATA\[(.*)\]\]>", text, re.S).group(1))
        assert re.search(r"<label>%s</label>" % re.escape(definition["title"]), text)
        titles.add(definition["title"])
    assert titles == EXPECTED


def test_every_view_validates(validator_ready):
    results = dashboards.validate(VIEWS)
    bad = {str(p.name): errors for p, errors in results.items() if errors}
    assert not bad, json.dumps(bad, indent=1)[:4000]


def test_validator_rejects_broken_definitions(validator_ready, tmp_path):
    definition = sources.dashboards()["boundaryflow_findings"]
    broken_type = json.loads(json.dumps(definition))
    next(iter(broken_type["visualizations"].values()))["type"] = "splunk.nosuchchart"
    no_layout = json.loads(json.dumps(definition))
    del no_layout["layout"]["layoutDefinitions"]
    paths = []
    for name, d in (("type.json", broken_type), ("layout.json", no_layout)):
        paths.append(tmp_path / name)
        paths[-1].write_text(json.dumps(d))
    results = dashboards.validate(paths)
    assert all(results[p] for p in paths), results


def test_security_findings_has_a_map_of_inference_origins():
    d = sources.dashboards()["boundaryflow_findings"]
    maps = [v for v in d["visualizations"].values() if v["type"] == "splunk.map"]
    assert maps
    query = d["dataSources"][maps[0]["dataSources"]["primary"]]["options"]["query"]
    assert "plane=inference" in query and "src_lat" in query
