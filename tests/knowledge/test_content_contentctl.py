"""contentctl (Splunk's security_content tool) validates our detection YAML.

content/ keeps contentctl's object formats; content/lib/contentctl_project.py lays them out as a
contentctl project (with the app's lookups) in a scratch directory and runs `contentctl validate`
offline. contentctl lives in its own venv (.cache/venvs/contentctl, installed on first use).
"""
import pathlib
import re
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "content"))

from lib import contentctl_project as project  # noqa: E402
from lib import sources  # noqa: E402

REQUIRED = ("name", "id", "version", "description", "search", "how_to_implement", "known_false_positives",
            "data_source", "drilldown_searches", "rba", "tags")


@pytest.fixture(scope="module")
def contentctl():
    return project.ensure_contentctl()


def _ansi_free(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_contentctl_validates_our_detections(contentctl, tmp_path):
    dest = project.build(tmp_path / "project", project.templates_dir(contentctl))
    assert len(list((dest / "detections" / "network").glob("*.yml"))) == len(sources.detections())
    code, output = project.validate(dest, contentctl)
    assert code == 0, _ansi_free(output)[-6000:]


def test_contentctl_rejects_a_broken_detection(contentctl, tmp_path):
    """The validation is live: a detection without its filter macro and with a bad ATT&CK id fails."""
    dest = project.build(tmp_path / "project", project.templates_dir(contentctl))
    victim = sorted((dest / "detections" / "network").glob("*.yml"))[0]
    text = victim.read_text()
    text = re.sub(r"\| `[a-z0-9_]+_filter`", "", text)
    victim.write_text(text)
    code, output = project.validate(dest, contentctl)
    assert code != 0 and "filter macro" in _ansi_free(output)


@pytest.mark.parametrize("det", sources.detections(), ids=lambda d: d["name"])
def test_detection_has_security_content_fields(det):
    for key in REQUIRED:
        assert det.get(key), key
    assert sources.snake(det["name"]) + ".yml" in {p.name for p in (sources.CONTENT / "detections").glob("*.yml")}
    assert det["tags"]["mitre_attack_id"] and det["rba"]["risk_objects"]
    for d in det["drilldown_searches"]:
        assert {"name", "search", "earliest_offset", "latest_offset"} <= set(d)
