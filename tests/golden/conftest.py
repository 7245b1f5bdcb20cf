"""Golden captures from real exporters (tests/golden/README.md): make this folder's helper modules
(reflib, golden_paths, golden_replay) importable by its tests."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
