"""Lay out content/ as a contentctl project in a scratch directory, so `contentctl validate` checks it.

contentctl expects its own tree (detections/, macros/ one file each, data_sources/, stories/,
lookups/ with a YAML definition beside every CSV). Our sources keep the same object formats; this
module only arranges copies of them, plus lookup definitions for the CSVs the app ships.
"""
from __future__ import annotations

import csv
import pathlib
import shutil
import subprocess
import uuid

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"
APP_LOOKUPS = ROOT / "package" / "lookups"

CONTENTCTL_VERSION = "5.6.2"
VENV = ROOT / ".cache" / "venvs" / "contentctl"

_CONFIG = """\
path: .
app:
  uid: 2
  title: Boundary Flow for Splunk
  appid: TA_boundaryflow
  version: 0.1.0
  description: Boundary Flow detections
  prefix: BoundaryFlow
  label: Boundary Flow
  author_name: Boundary Flow project
  author_email: noreply@example.org
  author_company: Boundary Flow project
verbose: false
enrichments: false
build_app: false
build_api: false
data_source_TA_validation: false
"""


def build(dest, contentctl_templates=None):
    """Write the contentctl project for our content into ``dest`` (created); return its path.

    ``contentctl_templates``: contentctl's own templates/ directory; its default deployment objects
    (which every detection references by type) are copied in. Our schedules live in
    content/schedules.yml, read by scripts/gen_content.py.
    """
    dest = pathlib.Path(dest)
    for sub in ("detections/network", "macros", "data_sources", "stories", "lookups", "baselines",
                "investigations", "playbooks", "dashboards", "deployments", "removed", "app_template"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    (dest / "contentctl.yml").write_text(_CONFIG)
    if contentctl_templates:
        for src in sorted((pathlib.Path(contentctl_templates) / "deployments").glob("*.yml")):
            shutil.copy(src, dest / "deployments" / src.name)
    for src in sorted((CONTENT / "detections").glob("*.yml")):
        shutil.copy(src, dest / "detections" / "network" / src.name)
    for sub in ("data_sources", "stories"):
        for src in sorted((CONTENT / sub).glob("*.yml")):
            shutil.copy(src, dest / sub / src.name)
    for macro in yaml.safe_load((CONTENT / "macros.yml").read_text()):
        (dest / "macros" / (macro["name"] + ".yml")).write_text(yaml.safe_dump(macro, sort_keys=False))
    for path in sorted(APP_LOOKUPS.glob("*.csv")):
        # The app's CSVs carry '#' instruction lines for admins; contentctl wants plain CSV.
        lines = [ln for ln in path.read_text().splitlines(True) if ln.strip() and not ln.startswith("#")]
        (dest / "lookups" / path.name).write_text("".join(lines))
        header = next(csv.reader(lines), [])
        definition = {"name": path.stem, "id": str(uuid.uuid5(uuid.NAMESPACE_URL, path.name)),
                      "lookup_type": "csv", "date": "2026-11-25", "version": 1,
                      "author": "Boundary Flow project",
                      "description": "Boundary Flow lookup %s (columns: %s)" % (path.name, ", ".join(header))}
        if header and header[0] == "cidr":
            definition["match_type"] = ["CIDR(cidr)"]
        (dest / "lookups" / (path.stem + ".yml")).write_text(yaml.safe_dump(definition, sort_keys=False))
    return dest


def ensure_contentctl():
    """contentctl's executable, installed (pinned) into its own venv under .cache on first use:
    its dependencies (pydantic 2, splunk-sdk ...) must not mix with the project's .venv."""
    exe = VENV / "bin" / "contentctl"
    if not exe.exists():
        subprocess.run(["python3", "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "-q",
                        "contentctl==%s" % CONTENTCTL_VERSION], check=True)
    return exe


def templates_dir(contentctl):
    """contentctl's templates/ directory, found through the interpreter of its venv."""
    python = pathlib.Path(contentctl).with_name("python")
    out = subprocess.run([str(python), "-c", "import contentctl, os; print(os.path.dirname(contentctl.__file__))"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return pathlib.Path(out) / "templates"


def validate(dest, contentctl):
    """Run ``contentctl validate`` in the project; return (exit code, combined output)."""
    proc = subprocess.run([str(contentctl), "validate"], cwd=str(dest), capture_output=True, text=True,
                          timeout=600)
    return proc.returncode, proc.stdout + proc.stderr
