"""`boundaryflow demo` as a user runs it: a real process, a live collector on loopback UDP, the
scenario exported as IPFIX, a summary on stdout and the JSONL events on disk."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENGINE = os.path.join(ROOT, "package", "bin")

try:
    from boundaryflow.pipeline import Collector  # noqa: F401
    MISSING = None
except ImportError as e:
    MISSING = "collector not available yet: %s" % e


@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_demo_runs_end_to_end_and_summarises(tmp_path):
    out = tmp_path / "demo"
    env = dict(os.environ, PYTHONPATH=ENGINE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # a smaller run than the default keeps the suite fast; same code path
    cmd = [sys.executable, "-m", "boundaryflow.cli", "demo", "--out", str(out), "--days", "2",
           "--learning-days", "1", "--scale", "0.3", "--seed", "5"]
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=150)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    text = proc.stdout
    assert "Bytes by plane" in text and "Findings by signature" in text
    events = [json.loads(line) for line in open(out / "events.jsonl")]
    flows = [e for e in events if e["sourcetype"] == "boundaryflow:flow"]
    findings = [e for e in events if e["sourcetype"] == "boundaryflow:finding"]
    truth = json.load(open(out / "truth.json"))["truth"]
    assert flows and findings and truth
    # the summary reports what the events say
    assert str(os.path.abspath(out / "events.jsonl")) in text
    assert "(%d findings;" % len(findings) in text
    for plane in {e["event"].get("plane") for e in flows if e["event"].get("plane")}:
        assert "\n  %s " % plane in text
    for sig in {f["event"]["signature"] for f in findings}:
        assert "\n  %s " % sig in text
    # every record sent over UDP arrived and was processed
    assert "0 decode errors" in text
    assert sum(e["event"]["flow_count"] for e in flows) > 1000
    # progress went to stderr, not into the summary
    assert "datagrams" in proc.stderr
    # a second run starts over (fresh learning, no appended events)
    proc2 = subprocess.run(cmd, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=150)
    assert proc2.returncode == 0
    again = [json.loads(line) for line in open(out / "events.jsonl")]
    assert len([e for e in again if e["sourcetype"] == "boundaryflow:finding"]) == len(findings)
