"""Bounded memory of recent connections: two generations of plain dicts (approximate LRU).

A lookup that hits the old generation moves the entry to the current one. When the current one
fills half the cap, or has been current for ``max_age`` seconds of event time, it becomes the old
one and the previous old generation is forgotten (counted as evicted or expired). Memory stays
under ``cap`` entries with O(1) work per record and no per-record bookkeeping of recency.
"""
from __future__ import annotations


class ConnectionTable(object):
    def __init__(self, cap, max_age):
        self.half = max(1, int(cap) // 2)
        self.max_age = max_age
        self.current = {}
        self.old = {}
        self.current_since = None     # event time the current generation started
        self.evicted = 0              # forgotten because of the cap
        self.expired = 0              # forgotten because idle for longer than max_age

    def __len__(self):
        return len(self.current) + len(self.old)

    def get(self, key):
        entry = self.current.get(key)
        if entry is None and self.old:
            entry = self.old.pop(key, None)
            if entry is not None:
                self.current[key] = entry
        return entry

    def put(self, key, entry, now):
        """Store (new or updated) entry in the current generation."""
        if self.current_since is None:
            self.current_since = now
        current = self.current
        size = len(current)
        current[key] = entry
        if len(current) > size and size + 1 >= self.half:
            self.evicted += len(self.old)
            self._rotate(now)

    def expire(self, now):
        """Called with the event-time watermark; forgets entries idle for >= max_age (to 2x)."""
        if self.current_since is not None and now - self.current_since >= self.max_age:
            self.expired += len(self.old)
            self._rotate(now)

    def _rotate(self, now):
        self.old = self.current
        self.current = {}
        self.current_since = now
