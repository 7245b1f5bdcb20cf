"""Run Splunk's own dashboard validator (tools/dashboards/validate.js, node) over definitions."""
from __future__ import annotations

import json
import shutil
import subprocess

from .sources import ROOT

TOOLS = ROOT / "tools" / "dashboards"


def ensure_node_modules():
    """Install the pinned npm packages (package-lock.json) into tools/dashboards/node_modules."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return False
    if not (TOOLS / "node_modules" / "@splunk" / "dashboard-validation").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=str(TOOLS), check=True)
    return True


def validate(paths):
    """{path: [errors]} from DashboardValidator for each .xml view or .json definition."""
    proc = subprocess.run(["node", "validate.js"] + [str(p) for p in paths], cwd=str(TOOLS),
                          capture_output=True, text=True, timeout=300)
    docs = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if len(docs) != len(paths):
        raise RuntimeError("validator failed (exit %s): %s" % (proc.returncode, proc.stderr[-2000:]))
    return {p: d["errors"] for p, d in zip(paths, docs)}     # the validator answers in argument order
