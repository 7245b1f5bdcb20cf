"""The engine on the Pythons Splunk ships: 3.9 (Enterprise 9.3+) and 3.13 (10.x).

vermin checks the syntax statically (tests/unit/test_engine_boundaries.py); this runs the engine for
real on those interpreters, from package/bin as the add-on does (standard library only: no orjson,
no virtual environment), over real-exporter captures, and compares the events with this
interpreter's. Skipped only where the interpreter is not installed.
"""
import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENGINE = os.path.join(ROOT, "package", "bin")
CAPTURES = sorted(glob.glob(os.path.join(ROOT, "tests", "golden", "captures", "*.pcap")))


def _interpreter(version):
    for cand in [shutil.which("python%s" % version)] + sorted(
            glob.glob(os.path.expanduser("~/.pyenv/versions/%s*/bin/python%s" % (version, version)))):
        if cand and subprocess.run([cand, "-c", ""], capture_output=True).returncode == 0:
            return cand
    return None


def _replay(python, capture, tmp):
    tmp.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=ENGINE, PYTHONNOUSERSITE="1")
    env.pop("PYTHONHOME", None)
    # -I would drop PYTHONPATH; -s keeps user site-packages out. The engine must need nothing else.
    out = subprocess.run([python, "-s", "-m", "boundaryflow.cli", "replay", capture, "--mode", "conversation",
                          "--state-dir", str(tmp)], capture_output=True, text=True, env=env, timeout=300, cwd=str(tmp))
    assert out.returncode == 0, out.stderr[-3000:]
    events = []
    for line in out.stdout.splitlines():
        env_ = json.loads(line)
        if env_["sourcetype"] == "boundaryflow:health":
            continue             # counters of the run itself (timings, backend) may differ
        env_.pop("host", None)
        events.append(env_)
    return events


@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_engine_replays_captures_identically(version, tmp_path):
    python = _interpreter(version)
    if python is None:
        pytest.skip("python%s is not installed on this machine" % version)
    if not CAPTURES:
        pytest.skip("no golden captures")
    for capture in CAPTURES:
        name = os.path.basename(capture)
        ours = _replay(sys.executable, capture, tmp_path / ("main-" + name))
        theirs = _replay(python, capture, tmp_path / (version + "-" + name))
        assert theirs == ours, name
        assert ours, name
