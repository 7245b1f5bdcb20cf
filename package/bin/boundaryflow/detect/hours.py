"""Operational hours in a configured time zone (DST-correct through zoneinfo)."""
from __future__ import annotations

from datetime import datetime

try:
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover - Python < 3.9 is not supported anyway
    ZoneInfo = None

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CACHE_CAP = 20000


class OperationalHours(object):
    """``check(t)`` -> (inside operational hours?, local date 'YYYY-MM-DD').

    ``items`` is config's parsed form: [(frozenset(weekdays, 0=Mon), start_min, end_min)]. An end
    before the start wraps past midnight and belongs to the start day (Fri 22:00-06:00 covers
    Saturday 03:00). start == end means the whole day. No items at all means "always inside":
    an empty setting disables the off-hours signature rather than flagging everything.
    Answers are cached per UTC minute: every zone in use today has a whole-minute UTC offset.
    """

    def __init__(self, items, timezone):
        self.items = list(items or ())
        self.timezone = timezone or "UTC"
        self.tz = ZoneInfo(self.timezone)
        self._cache = {}
        self._last_minute, self._last = None, None

    def check(self, t):
        minute = int(t // 60)
        if minute == self._last_minute:      # records mostly arrive in time order
            return self._last
        r = self._cache.get(minute)
        if r is None:
            local = datetime.fromtimestamp(minute * 60, self.tz)
            r = (self._inside(local.weekday(), local.hour * 60 + local.minute), local.date().isoformat())
            if len(self._cache) >= _CACHE_CAP:
                self._cache.clear()
            self._cache[minute] = r
        self._last_minute, self._last = minute, r
        return r

    def local_time(self, t):
        return datetime.fromtimestamp(t, self.tz).isoformat()

    def _inside(self, weekday, minute):
        if not self.items:
            return True
        for days, start, end in self.items:
            if start < end:
                if weekday in days and start <= minute < end:
                    return True
            elif start == end:
                if weekday in days:
                    return True
            elif (weekday in days and minute >= start) or ((weekday - 1) % 7 in days and minute < end):
                return True
        return False

    def describe(self):
        """Back to the setting's text form, e.g. 'Mon-Fri 07:00-19:00' (for evidence)."""
        parts = []
        for days, start, end in self.items:
            parts.append("%s %02d:%02d-%02d:%02d" % (_days_text(days), start // 60, start % 60,
                                                     end // 60, end % 60))
        return "; ".join(parts)


def _days_text(days):
    ds = sorted(days)
    if ds and ds == list(range(ds[0], ds[-1] + 1)) and len(ds) > 2:
        return "%s-%s" % (_DAY_NAMES[ds[0]], _DAY_NAMES[ds[-1]])
    return ",".join(_DAY_NAMES[d] for d in ds)
