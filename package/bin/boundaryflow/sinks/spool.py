"""A bounded on-disk queue of gzip'd HEC batches, ordered by sequence number.

One file per batch, ``<seq:020d>-<events>.json.gz``, written to a temporary name and renamed, so
a crash never leaves a half batch under a real name. Files left by a previous run are picked up
and drained first. The spool holds events only: never a token or header.
"""
from __future__ import annotations

import heapq
import os
import re

_NAME = re.compile(r"^(\d{20})-(\d+)\.json\.gz$")


class Spool(object):
    def __init__(self, directory, max_bytes):
        self.directory = directory
        self.max_bytes = int(max_bytes)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self._heap = []                  # (seq, events, size)
        self.bytes = 0
        self.events = 0
        self.dropped_events = 0          # overflow: batches that did not fit
        self.dropped_batches = 0
        self.write_errors = 0
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            m = _NAME.match(name)
            if m:
                size = os.path.getsize(path)
                heapq.heappush(self._heap, (int(m.group(1)), int(m.group(2)), size))
                self.bytes += size
                self.events += int(m.group(2))
            elif name.endswith(".tmp"):
                os.unlink(path)          # an interrupted write

    def __len__(self):
        return len(self._heap)

    def last_seq(self):
        return max(seq for seq, _e, _s in self._heap) if self._heap else 0

    def _path(self, seq, events):
        return os.path.join(self.directory, "%020d-%d.json.gz" % (seq, events))

    def put(self, seq, events, gz_body):
        """Store a batch; False (and counted as overflow) when it does not fit in max_bytes."""
        if self.bytes + len(gz_body) > self.max_bytes:
            self.dropped_events += events
            self.dropped_batches += 1
            return False
        path = self._path(seq, events)
        tmp = path + ".tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(gz_body)
            os.replace(tmp, path)
        except OSError:              # disk full or unwritable: same outcome as a full spool
            if os.path.exists(tmp):
                os.unlink(tmp)
            self.dropped_events += events
            self.dropped_batches += 1
            self.write_errors += 1
            return False
        heapq.heappush(self._heap, (seq, events, len(gz_body)))
        self.bytes += len(gz_body)
        self.events += events
        return True

    def head(self):
        """(seq, events) of the oldest batch, or None."""
        return self._heap[0][:2] if self._heap else None

    def read_head(self):
        seq, events, _size = self._heap[0]
        with open(self._path(seq, events), "rb") as fh:
            return fh.read()

    def pop_head(self):
        seq, events, size = heapq.heappop(self._heap)
        os.unlink(self._path(seq, events))
        self.bytes -= size
        self.events -= events
