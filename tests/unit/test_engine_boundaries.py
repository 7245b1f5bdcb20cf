"""The engine stays Splunk-free, layered, and Python 3.9 compatible (DESIGN.md §2)."""
import ast
import os
import shutil
import subprocess
import sys

import pytest

ENGINE = os.path.join(os.path.dirname(__file__), "..", "..", "package", "bin", "boundaryflow")
ENGINE = os.path.abspath(ENGINE)
LAYERS = ("decode", "track", "enrich", "detect", "reduce", "sinks")
BASE = ("model", "config", "lookups", "data", "state_files")
SPLUNK_LIBS = ("splunklib", "solnlib", "splunktaucclib")


def _modules():
    for root, _dirs, files in os.walk(ENGINE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                rel = os.path.relpath(path, ENGINE)
                yield rel, ast.parse(open(path, encoding="utf-8").read(), path)


def _imports(tree, rel):
    """Absolute top-level names and engine-relative module names imported by a module."""
    pkg_parts = rel.replace(os.sep, "/").split("/")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield "abs", a.name.split(".")[0], None
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                yield "abs", (node.module or "").split(".")[0], None
                if (node.module or "").startswith("boundaryflow."):
                    yield "rel", node.module.split(".")[1], None
            else:
                base = pkg_parts[:len(pkg_parts) - (node.level - 1)] if node.level > 1 else pkg_parts
                target = base + ((node.module or "").split(".") if node.module else [])
                if target:
                    yield "rel", target[0], None
                else:
                    for a in node.names:
                        yield "rel", a.name, None


def test_no_splunk_libraries_in_engine():
    offenders = [(rel, name) for rel, tree in _modules() for kind, name, _ in _imports(tree, rel)
                 if kind == "abs" and name in SPLUNK_LIBS]
    assert offenders == []


def test_layers_depend_only_on_the_base():
    offenders = []
    for rel, tree in _modules():
        layer = rel.split(os.sep)[0]
        if layer not in LAYERS:
            continue
        for kind, name, _ in _imports(tree, rel):
            if kind == "rel" and name in LAYERS + ("pipeline", "cli", "collector", "scenario") and name != layer:
                offenders.append((rel, name))
    assert offenders == [], "layers may import only %s" % (BASE,)


def test_engine_runs_on_python_39():
    vermin = shutil.which("vermin") or os.path.join(os.path.dirname(sys.executable), "vermin")
    if not os.path.exists(vermin):
        pytest.skip("vermin not installed (./build.sh setup installs it)")
    out = subprocess.run([vermin, "--no-tips", "--violations", "-t=3.9-", "--eval-annotations",
                          "--backport", "zoneinfo", ENGINE], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
