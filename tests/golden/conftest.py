"""Golden captures from real exporters (tests/golden/README.md) and their reference records."""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = os.path.join(HERE, "captures")
REFERENCES = os.path.join(HERE, "reference")
EXPECTED = os.path.join(HERE, "expected")
sys.path.insert(0, HERE)   # reflib


def capture_names():
    """Every capture that has a reference (scripts/make_captures.sh writes both)."""
    return sorted(n[:-5] for n in os.listdir(REFERENCES) if n.endswith(".json"))


def capture_path(name):
    return os.path.join(CAPTURES, name + ".pcap")
