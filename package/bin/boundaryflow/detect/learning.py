"""The learning period: starts once, at the first flow the engine sees, and survives restarts."""
from __future__ import annotations

INF = float("inf")


class Learning(object):
    """Event-time learning window [start, start + period). Before the first flow, end is +inf so
    every record is treated as learning."""

    __slots__ = ("start", "period", "end", "completed")

    def __init__(self, period, start=None):
        self.period = period
        self.completed = False
        self.start = None
        self.end = INF
        if start is not None:
            self.begin(start)

    def begin(self, t):
        self.start = t
        self.end = t + self.period

    def status(self):
        if self.start is None:
            return "not_started"
        return "complete" if self.completed else "learning"

    def health(self):
        return {"status": self.status(), "start": self.start,
                "end": None if self.start is None else self.end, "period": self.period}
