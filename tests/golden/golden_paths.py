"""Where the golden captures, references and expected outputs live (tests/golden/README.md).
(A module of its own, not conftest: several test folders have a conftest, so `from conftest import`
would pick whichever was imported first.)"""
from __future__ import annotations

import os

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = os.path.join(HERE, "captures")
REFERENCES = os.path.join(HERE, "reference")
EXPECTED = os.path.join(HERE, "expected")


def capture_names():
    """Every capture that has a reference (scripts/make_captures.sh writes both)."""
    return sorted(n[:-5] for n in os.listdir(REFERENCES) if n.endswith(".json"))


def capture_path(name):
    return os.path.join(CAPTURES, name + ".pcap")
