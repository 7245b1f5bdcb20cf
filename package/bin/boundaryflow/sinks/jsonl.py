"""JSON lines: one envelope per line to a stream (stdout by default) or appended to a file."""
from __future__ import annotations

import sys

from .serialize import dumpb, dumps


class JsonlSink(object):
    def __init__(self, path="-", stream=None):
        self._owned = False
        self._binary = False
        if path in (None, "", "-"):
            self._stream = stream if stream is not None else sys.stdout
        else:
            # A file we own takes bytes: the serializer makes UTF-8 already, so decoding it to
            # str and encoding it again on write would cost ~10% of an event's output time.
            self._stream = open(path, "ab")
            self._owned = self._binary = True
        self.events_out = 0
        self.bytes_out = 0

    def write(self, envelopes):
        if not envelopes:
            return
        if self._binary:
            chunk = b"\n".join([dumpb(e) for e in envelopes]) + b"\n"
            self._stream.write(chunk)
            self.bytes_out += len(chunk)
        else:
            text = "\n".join([dumps(e) for e in envelopes]) + "\n"
            self._stream.write(text)
            self.bytes_out += len(text.encode("utf-8")) if not text.isascii() else len(text)
        self.events_out += len(envelopes)

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
