"""Findings already written, kept across a crash so a restart never repeats one.

Detector state (including its de-duplication tables) is saved periodically; a finding raised after
the last save would be forgotten by kill -9 and raised again after the restart. So each finding's
identity - the signature's "one finding per" fields and period from data/signatures.csv - is
appended to ``state_dir/findings.journal`` BEFORE the finding reaches the sink (a flushed append
survives a killed process). On start the journal is read back, and a finding matching an identity
from a previous run within its period is suppressed (counted). Identities recorded by this run are
only journaled: within one run the detectors' own de-duplication decides. Each state save compacts
the journal to the identities whose period has not passed.
"""
from __future__ import annotations

import json
import math
import os

from .data import read_csv

JOURNAL = "findings.journal"
MAX_ENTRIES = 100000
_PERIODS = {"1h": 3600.0, "1d": 86400.0, "forever": math.inf}


def _rules(dedup_window):
    rules = {}
    for row in read_csv("signatures.csv"):
        period = row.get("dedup_period") or "dedup_window"
        rules[row["signature"]] = (tuple((row.get("dedup_fields") or "src dest").split()),
                                   dedup_window if period == "dedup_window" else _PERIODS[period])
    return rules


class FindingsLedger(object):
    def __init__(self, state_dir, dedup_window, log=None):
        self.path = os.path.join(state_dir, JOURNAL)
        self.rules = _rules(float(dedup_window))
        self.previous = {}          # identity -> finding time, from earlier runs (suppresses repeats)
        self.current = {}           # identity -> finding time, this run (journaled only)
        self.suppressed = 0
        self.bad_lines = 0
        self._load()
        self._fh = open(self.path, "a", encoding="utf-8")
        if (self.bad_lines or self.previous) and log is not None:
            log.info("findings ledger: %d findings of earlier runs remembered (%d unreadable lines)",
                     len(self.previous), self.bad_lines)

    def identity(self, finding):
        fields, period = self.rules.get(finding.signature, (("src", "dest"), None))
        values = []
        for name in fields:
            v = finding.evidence.get(name) if name == "country" else getattr(finding, name, None)
            values.append(v)
        return json.dumps([finding.signature] + values), period

    def admit(self, finding):
        """True when the finding may be written (and it is journaled first); False for a repeat."""
        key, period = self.identity(finding)
        seen = self.previous.get(key)
        if seen is not None and (period is None or finding.time - seen < period):
            self.suppressed += 1
            return False
        self.current[key] = finding.time
        self._fh.write(json.dumps([key, finding.time]) + "\n")
        self._fh.flush()       # in the kernel now: survives kill -9 of this process
        return True

    def compact(self, event_time):
        """Rewrite the journal with the identities whose period has not passed at ``event_time``."""
        keep = dict(self.previous)
        keep.update(self.current)
        period_of = {}
        for key in keep:
            sig = json.loads(key)[0]
            period_of[key] = self.rules.get(sig, ((), float("inf")))[1]
        live = sorted(((t, k) for k, t in keep.items() if event_time - t < (period_of[k] or math.inf)),
                      reverse=True)[:MAX_ENTRIES]
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            for t, k in reversed(live):
                fh.write(json.dumps([k, t]) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self._fh.close()
        os.replace(tmp, self.path)
        self._fh = open(self.path, "a", encoding="utf-8")
        alive = {k for _t, k in live}
        self.previous = {k: t for k, t in self.previous.items() if k in alive}
        self.current = {k: t for k, t in self.current.items() if k in alive}

    def close(self):
        self._fh.close()

    def _load(self):
        try:
            with open(self.path, encoding="utf-8") as fh:
                for line in fh:
                    try:
                        key, t = json.loads(line)
                        self.previous[str(key)] = float(t)
                    except (ValueError, TypeError):
                        self.bad_lines += 1     # a torn last line after a crash, typically
        except FileNotFoundError:
            pass
        except OSError:
            self.bad_lines += 1
        if len(self.previous) > MAX_ENTRIES:
            newest = sorted(self.previous.items(), key=lambda kv: kv[1])[-MAX_ENTRIES:]
            self.previous = dict(newest)

    def health(self):
        return {"remembered": len(self.previous) + len(self.current), "suppressed_repeats": self.suppressed,
                "unreadable_lines": self.bad_lines}
