"""Replay a golden capture through `boundaryflow replay` (the full pipeline, reduction mode = flow)
and return its events in a stable, comparable form. Shared by regenerate.py and test_golden.py."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CONFIG = os.path.join(HERE, "golden.ini")
IGNORED_KEYS = ("host",)   # the collector's host name differs per machine


def boundaryflow_command():
    """The console script next to this Python (the .venv), else on PATH, else the module."""
    local = os.path.join(os.path.dirname(sys.executable), "boundaryflow")
    if os.path.exists(local):
        return [local]
    found = shutil.which("boundaryflow")
    return [found] if found else [sys.executable, "-c", "import sys; from boundaryflow.cli import main; sys.exit(main())"]


def replay_events(capture):
    """Events of one capture: dicts without IGNORED_KEYS, the repository path written as <repo> and
    the temporary state dir as <state_dir> (health events name their files)."""
    with tempfile.TemporaryDirectory(prefix="bf-golden-") as state:
        proc = subprocess.run(boundaryflow_command() + ["replay", capture, "--config", CONFIG, "--output", "jsonl",
                                                        "--state-dir", state],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
        if proc.returncode != 0:
            raise RuntimeError("boundaryflow replay %s failed (%d): %s" % (capture, proc.returncode,
                                                                          proc.stderr[-2000:]))
        text = proc.stdout.replace(state, "<state_dir>").replace(ROOT, "<repo>")
    events = []
    for line in text.splitlines():
        if line.strip():
            ev = json.loads(line)
            for k in IGNORED_KEYS:
                ev.pop(k, None)
            events.append(ev)
    return events


def dumps(events):
    """One event per line, keys sorted: the expected file reviewed as a diff."""
    return "".join(json.dumps(e, sort_keys=True) + "\n" for e in events)


def loads(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]
