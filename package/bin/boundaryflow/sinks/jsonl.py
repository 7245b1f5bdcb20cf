"""JSON lines: one envelope per line to a stream (stdout by default) or appended to a file."""
from __future__ import annotations

import sys

from .serialize import dumps


class JsonlSink(object):
    def __init__(self, path="-", stream=None):
        self._owned = False
        if path in (None, "", "-"):
            self._stream = stream if stream is not None else sys.stdout
        else:
            self._stream = open(path, "a", encoding="utf-8")
            self._owned = True
        self.events_out = 0
        self.bytes_out = 0

    def write(self, envelopes):
        if not envelopes:
            return
        chunk = "\n".join([dumps(e) for e in envelopes]) + "\n"
        self._stream.write(chunk)
        self.events_out += len(envelopes)
        self.bytes_out += len(chunk.encode("utf-8")) if not chunk.isascii() else len(chunk)

    def flush(self):
        self._stream.flush()

    def close(self):
        try:
            self.flush()
        finally:
            if self._owned:
                self._stream.close()

    def health(self):
        return {"sink": "jsonl", "events_out": self.events_out, "bytes_out": self.bytes_out}
