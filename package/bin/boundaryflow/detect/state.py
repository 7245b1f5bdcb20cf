"""Detector state on disk: one JSON document, written atomically (the base layer's state files)."""
from __future__ import annotations

from ..state_files import read_json_state as load_json  # noqa: F401  (document, error)
from ..state_files import save_json_state as save_json  # noqa: F401  returns bytes written
