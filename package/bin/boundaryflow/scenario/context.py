"""Shared state of one scenario build: the clock (learning, operational hours) and the builder.

``Timeline`` answers "when": the learning period, the operational-hours windows (same syntax and
time zone handling as ``[detection] operational_hours``), and random times inside or outside them.
``Builder`` collects connections, ground truth and near-miss notes while traffic is generated.
"""
from __future__ import annotations

import datetime
import math

from ..config import parse_hours
from .records import conn_records

DAY = 86400.0


def _tz(name):
    if name.upper() == "UTC":
        return datetime.timezone.utc
    from zoneinfo import ZoneInfo
    return ZoneInfo(name)


def operational_windows(start, end, hours_text, tz_name="UTC"):
    """Sorted (begin, end) epoch intervals of operational hours overlapping [start, end)."""
    items = parse_hours(hours_text)
    tz = _tz(tz_name)
    day = datetime.datetime.fromtimestamp(start, tz).date() - datetime.timedelta(days=1)
    last = datetime.datetime.fromtimestamp(end, tz).date()
    out = []
    while day <= last:
        for days, m1, m2 in items:
            if day.weekday() not in days:
                continue
            midnight = datetime.datetime(day.year, day.month, day.day, tzinfo=tz)
            a = midnight + datetime.timedelta(minutes=m1)
            b = midnight + datetime.timedelta(minutes=m2 if m2 > m1 else m2 + 1440)
            a, b = max(a.timestamp(), start), min(b.timestamp(), end)
            if a < b:
                out.append((a, b))
        day += datetime.timedelta(days=1)
    out.sort()
    merged = []
    for a, b in out:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


class Timeline(object):
    def __init__(self, start, days, learning_days, hours_text, tz_name):
        self.start = float(start)
        self.end = self.start + days * DAY
        self.learning_end = self.start + learning_days * DAY
        self.windows = operational_windows(self.start, self.end, hours_text, tz_name)

    def day_starts(self):
        t = self.start
        while t < self.end:
            yield t
            t += DAY

    def is_operational(self, t):
        return any(a <= t < b for a, b in self.windows)

    def business_slots(self, after, before, duration, margin=600.0):
        """Windows (clipped to [after, before)) where an activity of ``duration`` fits with margins."""
        out = []
        for a, b in self.windows:
            a, b = max(a, after) + margin, min(b, before) - margin - duration
            if a < b:
                out.append((a, b))
        return out

    def off_slots(self, after, before, duration, margin=1800.0):
        """Gaps between operational windows (clipped) where an activity fits with margins."""
        out, t = [], after
        for a, b in self.windows + [(before, before)]:
            lo, hi = t + margin, min(a, before) - margin - duration
            if lo < hi:
                out.append((lo, hi))
            t = max(t, b)
            if t >= before:
                break
        return out


def pick_in(slots, rng):
    """A uniformly random time in a list of (lo, hi) slots, or None when there are none."""
    total = sum(b - a for a, b in slots)
    if total <= 0:
        return None
    x = rng.uniform(0, total)
    for a, b in slots:
        if x <= b - a:
            return a + x
        x -= b - a
    return slots[-1][1]


def poisson(rng, lam):
    """Knuth's method; fine for the small rates used here."""
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class Builder(object):
    """Collects connections (and extra raw records), truth rows and near-miss notes."""

    def __init__(self, plan, timeline, rng, scale=1.0):
        self.plan = plan
        self.tl = timeline
        self.rng = rng
        self.scale = scale
        self.conns = []
        self.truth = []
        self.near_misses = []
        self.used_dests = set()
        self._next_port = {}

    def port(self, client=None, low=32768, high=60999):
        """The client's next source port: like an OS, walk the range instead of drawing at random,
        so one host does not reuse a 5-tuple within a scenario."""
        if client is None:
            return self.rng.randint(low, high)
        key = (client.ip, low)
        p = self._next_port.get(key)
        p = self.rng.randint(low, high) if p is None else p + self.rng.randint(1, 3)
        if p > high:
            p = low + (p - high)
        self._next_port[key] = p
        return p

    def add(self, conn):
        if conn.cport is None:
            conn.cport = self.port(conn.client)
        # nothing may outlive the scenario (the exporter would not have sent it yet)
        if conn.start < self.tl.end and conn.end <= self.tl.end:
            self.conns.append(conn)
            return conn
        return None

    def expect(self, signature, src, dest, conns):
        conns = [c for c in conns if c is not None]
        self.truth.append({"signature": signature, "src": src, "dest": dest,
                           "time_first": min(c.start for c in conns), "time_last": max(c.end for c in conns)})

    def near_miss(self, kind, description, src, dest, conns):
        conns = [c for c in conns if c is not None]
        if conns:
            self.near_misses.append({"kind": kind, "description": description, "src": src, "dest": dest,
                                     "time_first": min(c.start for c in conns),
                                     "time_last": max(c.end for c in conns)})

    def records(self, active_timeout, export_jitter=0.0):
        """Every connection's records in export order. A router's flow cache is scanned
        periodically, so a record leaves up to ``export_jitter`` seconds after it ended: records
        arrive slightly out of end-time order, as they do from real exporters."""
        ifaces = self.plan.exporter["interfaces"]
        keyed = []
        rnd = self.rng.random
        for c in self.conns:
            delay = rnd() * export_jitter      # both sides of a slice leave in the same scan
            for f in conn_records(c, self.rng, active_timeout, ifaces):
                keyed.append((f.end + delay, len(keyed), f))
        keyed.sort(key=lambda k: (k[0], k[1]))   # stable: keeps each slice's own order
        return [k[2] for k in keyed]
