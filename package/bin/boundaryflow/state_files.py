"""Atomic JSON state files (templates, detector state). Base layer: any layer may use it.

A state file that cannot be read is moved aside (``<name>.corrupt-<epoch>``, kept for inspection)
and the caller starts fresh: a damaged file must never keep the collector from starting.
orjson is used when importable (about 10x faster on a large detector state), the stdlib otherwise.
"""
from __future__ import annotations

import json
import os
import tempfile
import time

try:                        # optional native speedup; identical documents either way
    import orjson as _orjson
except ImportError:         # pragma: no cover - depends on the environment
    _orjson = None


def _dumps(document):
    if _orjson is not None:
        return _orjson.dumps(document)
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _loads(data):
    return _orjson.loads(data) if _orjson is not None else json.loads(data.decode("utf-8"))


def read_json_state(path):
    """(document, error): (None, None) when missing; (None, message) when unreadable or not a JSON
    object, in which case the file has been set aside."""
    try:
        with open(path, "rb") as fh:
            data = _loads(fh.read())
        if not isinstance(data, dict):
            raise ValueError("top level is %s, not an object" % type(data).__name__)
        return data, None
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError, UnicodeDecodeError) as e:
        return None, "state file %s is unreadable (%s); %s; starting fresh" % (path, e, set_aside(path))


def set_aside(path):
    """Move a state file the engine cannot use to ``<path>.corrupt-<epoch>`` (kept for inspection);
    returns what happened, for the message."""
    aside = "%s.corrupt-%d" % (path, int(time.time()))
    try:
        os.replace(path, aside)
        return "set aside as %s" % os.path.basename(aside)
    except OSError:
        return "could not be set aside"


def load_json_state(path, log=None):
    """The JSON object stored at path; {} when missing or corrupt (corrupt files are set aside)."""
    data, error = read_json_state(path)
    if error and log is not None:
        log.warning("%s", error)
    return data or {}


def save_json_state(path, document):
    """Write atomically (temp file in the same directory, fsync, rename); returns the bytes written."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    data = _dumps(document)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return len(data)
