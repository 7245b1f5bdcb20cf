"""Bounded state: an LRU map and a de-duplication memory, both counting what they evict.

Every piece of detector state lives in one of these so memory stays bounded whatever the traffic;
health() reports sizes and evictions so an operator can see when a cap is too small.
"""
from __future__ import annotations

from collections import OrderedDict


class LRU(object):
    """A map that forgets its least recently used key beyond ``cap`` entries."""

    __slots__ = ("cap", "evictions", "_d")

    def __init__(self, cap):
        self.cap = cap
        self.evictions = 0
        self._d = OrderedDict()

    def get(self, key):
        d = self._d
        v = d.get(key)
        if v is not None:
            d.move_to_end(key)
        return v

    def peek(self, key):
        return self._d.get(key)

    def put(self, key, value):
        d = self._d
        d[key] = value
        d.move_to_end(key)
        if len(d) > self.cap:
            d.popitem(last=False)
            self.evictions += 1

    def pop(self, key, default=None):
        return self._d.pop(key, default)

    def sweep(self, expired, keep=None):
        """Drop least recently used entries while ``expired(value)`` holds, stopping at the first
        live one: entries are in touch order, which follows event time, so a sweep costs what it
        removes, not the table size. ``keep(key)`` protects an entry without stopping."""
        d = self._d
        dead = []
        for key, value in d.items():
            if keep is not None and keep(key):
                continue
            if not expired(value):
                break
            dead.append(key)
        for key in dead:
            del d[key]
        return len(dead)

    def items(self):
        return self._d.items()

    def values(self):
        return self._d.values()

    def __contains__(self, key):
        return key in self._d

    def __len__(self):
        return len(self._d)


class Dedup(object):
    """Remembers when each key last produced a finding: one finding per key per ``window`` seconds
    of event time (``window=None``: once per key, ever)."""

    __slots__ = ("window", "cap", "evictions", "_last")

    def __init__(self, window, cap):
        self.window = window
        self.cap = cap
        self.evictions = 0
        self._last = OrderedDict()

    def allows(self, key, t):
        last = self._last.get(key)
        # t < last (an out-of-order record) also falls inside the window: never re-raise backwards.
        return last is None or (self.window is not None and t - last >= self.window)

    def first(self, key, t):
        """True (and remember t) when a finding for key at event time t is not a duplicate."""
        if not self.allows(key, t):
            return False
        d = self._last
        d[key] = t
        d.move_to_end(key)
        if len(d) > self.cap:
            d.popitem(last=False)
            self.evictions += 1
        return True

    def prune(self, horizon):
        """Forget keys whose window ended before ``horizon`` (they would fire again anyway)."""
        if self.window is None:
            return
        cutoff = horizon - self.window
        d = self._last
        dead = []
        for key, t in d.items():           # in firing order: stop at the first live key
            if t >= cutoff:
                break
            dead.append(key)
        for key in dead:
            del d[key]

    def __len__(self):
        return len(self._last)

    def __contains__(self, key):
        return key in self._last

    # -- persistence: keys are strings or tuples of str/int -> JSON lists ----------------------
    def to_state(self):
        return [[list(k) if isinstance(k, tuple) else k, t] for k, t in self._last.items()]

    def load_state(self, rows):
        for k, t in rows or ():
            self._last[tuple(k) if isinstance(k, list) else k] = t


def key_from_json(k):
    """A JSON-decoded key back to the tuple it was saved from."""
    return tuple(k) if isinstance(k, list) else k
