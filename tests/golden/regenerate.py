#!/usr/bin/env python3
"""Regenerate tests/golden/expected/<capture>.jsonl (run by `./build.sh golden`).

Each golden capture is replayed with `boundaryflow replay CAPTURE --config tests/golden/golden.ini
--output jsonl` (reduction mode = flow, a fresh temporary state dir) and its events are written one
per line with sorted keys and without `host`. Review the change with `git diff tests/golden/expected`
before committing: every changed line is a changed event.

usage: regenerate.py [CAPTURE_NAME ...]      (default: every capture with a reference)
"""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from golden_paths import EXPECTED, capture_names, capture_path  # noqa: E402
from golden_replay import dumps, replay_events  # noqa: E402


def main(argv):
    names = argv or capture_names()
    os.makedirs(EXPECTED, exist_ok=True)
    for name in names:
        events = replay_events(capture_path(name))
        path = os.path.join(EXPECTED, name + ".jsonl")
        old = open(path).read() if os.path.exists(path) else None
        new = dumps(events)
        with open(path, "w") as f:
            f.write(new)
        state = "new" if old is None else ("unchanged" if old == new else "CHANGED")
        print("%-28s %5d events  %s" % (name, len(events), state))
    print("review: git diff --stat tests/golden/expected && git diff tests/golden/expected")


if __name__ == "__main__":
    main(sys.argv[1:])
