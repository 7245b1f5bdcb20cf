"""Atomic JSON state files (templates, detector state). Base layer: any layer may use it.

A state file that cannot be read is moved aside (``<name>.corrupt-<epoch>``) with a warning and the
caller starts fresh: a damaged file must never keep the collector from starting.
"""
from __future__ import annotations

import json
import os
import tempfile
import time


def load_json_state(path, log=None):
    """The JSON object stored at path; {} when missing or corrupt (corrupt files are set aside)."""
    try:
        with open(path, "r", encoding="utf-8") as fh:
            data = json.load(fh)
        if not isinstance(data, dict):
            raise ValueError("top level is %s, not an object" % type(data).__name__)
        return data
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        aside = "%s.corrupt-%d" % (path, int(time.time()))
        try:
            os.replace(path, aside)
        except OSError:
            aside = None
        if log is not None:
            log.warning("state file %s is unreadable (%s); %s; starting fresh", path, e,
                        "moved to %s" % aside if aside else "could not move it aside")
        return {}


def save_json_state(path, data):
    """Write atomically: temp file in the same directory, fsync, rename."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
