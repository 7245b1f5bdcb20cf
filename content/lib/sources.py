"""Load the content sources under content/ (detections, reports, macros, schedules, dashboards)."""
from __future__ import annotations

import json
import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"
STANZA_PREFIX = "Boundary Flow"


def snake(name):
    """security_content's file/macro stem for a detection name ("A B-C" -> "a_b_c")."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def filter_macro(detection):
    return snake(detection["name"]) + "_filter"


def rule_name(detection):
    """ES convention for correlation search stanzas: "<App> - <Detection> - Rule"."""
    name = detection["name"]
    short = name[len(STANZA_PREFIX):].strip() if name.startswith(STANZA_PREFIX) else name
    return "%s - %s - Rule" % (STANZA_PREFIX, short)


def _load_dir(sub):
    return [yaml.safe_load(p.read_text()) for p in sorted((CONTENT / sub).glob("*.yml"))]


def detections():
    return _load_dir("detections")


def reports():
    return _load_dir("reports")


def macros():
    return yaml.safe_load((CONTENT / "macros.yml").read_text())


def schedules():
    return yaml.safe_load((CONTENT / "schedules.yml").read_text())


def schedule_for(detection, table=None):
    """The detection's schedule: its data source's defaults, then its own overrides."""
    table = table or schedules()
    out = dict(table["defaults"][detection["data_source"][0]])
    out.update(table.get("detections", {}).get(detection["name"], {}))
    return out


def dashboards():
    """{stem: definition dict} of content/dashboards/*.json."""
    return {p.stem: json.loads(p.read_text()) for p in sorted((CONTENT / "dashboards").glob("*.json"))}
