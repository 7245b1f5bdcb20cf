"""Golden files: each real-exporter capture replayed through the whole pipeline (`boundaryflow replay`
with tests/golden/golden.ini, reduction mode = flow) must print exactly the events in
tests/golden/expected/<capture>.jsonl (host ignored; keys order-free).

After an intended change, update the files and review the diff:
    ./build.sh golden            (= .venv/bin/python tests/golden/regenerate.py [NAME ...])
    git diff tests/golden/expected
or run this test with BOUNDARYFLOW_UPDATE_GOLDEN=1 to rewrite the expected files in place.
"""
from __future__ import annotations

import os

import pytest

from golden_paths import EXPECTED, capture_names, capture_path
from golden_replay import dumps, loads, replay_events

try:
    from boundaryflow.pipeline import replay as _pipeline_replay  # noqa: F401
    from boundaryflow import cli as _cli  # noqa: F401
except ImportError:
    _cli = None

pytestmark = pytest.mark.skipif(_cli is None, reason="`boundaryflow replay` not available yet")

UPDATE = os.environ.get("BOUNDARYFLOW_UPDATE_GOLDEN") == "1"


def _key(ev):
    return repr(sorted(ev.items()))


@pytest.mark.parametrize("name", capture_names())
def test_replay_matches_golden_file(name):
    path = os.path.join(EXPECTED, name + ".jsonl")
    events = replay_events(capture_path(name))
    if UPDATE:
        with open(path, "w") as f:
            f.write(dumps(events))
        return
    if not os.path.exists(path):
        pytest.fail("no golden file %s: run ./build.sh golden and review it" % path)
    with open(path) as f:
        expected = loads(f.read())
    assert len(events) == len(expected), "%s: %d events, golden file has %d" % (name, len(events), len(expected))
    # Same events in the same order; on a difference show the first few events that differ.
    diffs = [(i, e, a) for i, (e, a) in enumerate(zip(expected, events)) if e != a]
    if diffs:
        lines = []
        for i, e, a in diffs[:5]:
            changed = sorted(k for k in set(e) | set(a) if e.get(k) != a.get(k))
            lines.append("event %d: %s" % (i, ", ".join("%s: %r -> %r" % (k, e.get(k), a.get(k)) for k in changed)))
        pytest.fail("%s: %d of %d events differ from %s (run ./build.sh golden to update, then review the diff)\n%s"
                    % (name, len(diffs), len(events), path, "\n".join(lines)))
