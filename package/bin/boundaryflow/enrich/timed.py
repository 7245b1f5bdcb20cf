"""Time-bounded address mappings: an IP's user (or job) changes over the day.

``TimedTable`` keeps, per address, the intervals sorted by start; ``value_at(intervals, t)`` finds
the interval covering ``t`` by bisection. Overlaps resolve to the interval that started last (the
newest sign-in or job wins).
"""
from __future__ import annotations

import bisect
import datetime
import math

INF = math.inf


def parse_time(text, default=None):
    """Epoch seconds or ISO 8601 ('2026-01-05T08:00:00Z', offsets allowed; naive = UTC).

    Empty -> ``default``. Raises ValueError for anything else."""
    t = (text or "").strip()
    if not t:
        return default
    try:
        return float(t)
    except ValueError:
        pass
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    t = t.replace(" ", "T", 1) if "T" not in t and " " in t else t
    # Python 3.9's fromisoformat wants exactly 0, 3 or 6 fraction digits: normalise to 6.
    head, sep, frac = t.partition(".")
    if sep:
        n = 0
        while n < len(frac) and frac[n].isdigit():
            n += 1
        digits, rest = frac[:n], frac[n:]
        t = head + "." + (digits + "000000")[:6] + rest
    dt = datetime.datetime.fromisoformat(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


class TimedTable(object):
    """address -> sorted [(start, end, value)]; ``get(addr)`` returns that list or None."""

    def __init__(self):
        self._by_ip = {}
        self._starts = {}

    def add(self, ip, start, end, value):
        self._by_ip.setdefault(ip, []).append((start, end, value))
        self._starts.pop(ip, None)

    def freeze(self):
        """Index every address's intervals; call after the last add()."""
        for ip in self._by_ip:
            self._index(ip)
        return self

    def _index(self, ip):
        items = self._by_ip[ip]
        items.sort(key=lambda r: r[0])
        # reach[i] = latest end among items[:i+1]: the backward walk stops once nothing earlier
        # can still cover t, so a long history costs a bisection, not a scan.
        reach, latest = [], -INF
        for r in items:
            latest = max(latest, r[1])
            reach.append(latest)
        entry = ([r[0] for r in items], items, reach)
        self._starts[ip] = entry
        return entry

    def get(self, ip):
        """The address's interval index (opaque, for :func:`value_at`) or None."""
        if ip not in self._by_ip:
            return None
        entry = self._starts.get(ip)
        return entry if entry is not None else self._index(ip)

    def value_at(self, ip, t):
        entry = self.get(ip)
        return value_at(entry, t) if entry else None

    def __len__(self):
        return sum(len(v) for v in self._by_ip.values())

    def addresses(self):
        return len(self._by_ip)


def value_at(entry, t):
    """The value valid at time t (the latest-starting interval covering it), or None."""
    starts, items, reach = entry
    i = bisect.bisect_right(starts, t) - 1
    while i >= 0 and reach[i] >= t:
        start, end, value = items[i]
        if t <= end:
            return value
        i -= 1
    return None


def load_timed_lookup(rows, value_of, ip_column="ip"):
    """A TimedTable from CSV rows; returns (table, bad_rows). ``value_of(row)`` -> value or None."""
    table = TimedTable()
    bad = 0
    for row in rows:
        ip = row.get(ip_column, "").strip()
        try:
            start = parse_time(row.get("start"), -INF)
            end = parse_time(row.get("end"), INF)
        except ValueError:
            bad += 1
            continue
        value = value_of(row)
        if not ip or value is None or end < start:
            bad += 1
            continue
        table.add(_canonical_ip(ip), start, end, value)
    return table.freeze(), bad


def _canonical_ip(text):
    """Flows carry addresses as ipaddress renders them; normalise lookups the same way."""
    import ipaddress
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def merged(*tables):
    """One TimedTable holding every interval of the given tables."""
    out = TimedTable()
    for table in tables:
        for ip, items in table._by_ip.items():
            out._by_ip.setdefault(ip, []).extend(items)
    return out.freeze()
