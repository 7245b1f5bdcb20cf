"""Score detector findings against a scenario's ground truth: precision and recall per signature.

A finding matches a truth row when the signature and the fields its de-duplication rule keys on
are equal and its time lies within the attack's span (plus ``slack`` for detectors that can only
decide after the fact). Each truth row is matched once; a second finding for it is a duplicate and
counts against precision, as does a finding with no truth row.
"""
from __future__ import annotations

from .generate import DEFAULT_MATCH_FIELDS, MATCH_FIELDS


def score(findings, truth, slack=3600.0):
    """findings: envelopes (``{"time", "event": {...}}``) or events with a ``time`` key.

    Returns {signature: {tp, fp, fn, precision, recall, false: [...], missed: [...]}}."""
    out = {}
    matched = set()

    def entry(sig):
        return out.setdefault(sig, {"tp": 0, "fp": 0, "fn": 0, "false": [], "missed": []})

    for t in truth:
        entry(t["signature"])
    for env in sorted(findings, key=lambda e: e.get("time", 0)):
        ev = env.get("event", env)
        when = env.get("time", ev.get("time", 0))
        sig = ev.get("signature")
        fields = MATCH_FIELDS.get(sig, DEFAULT_MATCH_FIELDS)
        hit = None
        for i, t in enumerate(truth):
            if i in matched or t["signature"] != sig:
                continue
            if all(ev.get(f) == t[f] for f in fields) and t["time_first"] - 60 <= when <= t["time_last"] + slack:
                hit = i
                break
        e = entry(sig)
        if hit is None:
            e["fp"] += 1
            e["false"].append({"src": ev.get("src"), "dest": ev.get("dest"), "time": when})
        else:
            matched.add(hit)
            e["tp"] += 1
    for i, t in enumerate(truth):
        if i not in matched:
            e = entry(t["signature"])
            e["fn"] += 1
            e["missed"].append(t)
    for e in out.values():
        e["precision"] = e["tp"] / (e["tp"] + e["fp"]) if e["tp"] + e["fp"] else 1.0
        e["recall"] = e["tp"] / (e["tp"] + e["fn"]) if e["tp"] + e["fn"] else 1.0
    return out


def combine(scores):
    """Pool several runs' scores (e.g. seeds) into one per signature."""
    out = {}
    for s in scores:
        for sig, e in s.items():
            o = out.setdefault(sig, {"tp": 0, "fp": 0, "fn": 0, "false": [], "missed": []})
            for k in ("tp", "fp", "fn", "false", "missed"):
                o[k] += e[k]
    for e in out.values():
        e["precision"] = e["tp"] / (e["tp"] + e["fp"]) if e["tp"] + e["fp"] else 1.0
        e["recall"] = e["tp"] / (e["tp"] + e["fn"]) if e["tp"] + e["fn"] else 1.0
    return out


def table(scores):
    """A plain-text table of a score dict."""
    lines = ["%-32s %4s %4s %4s %9s %7s" % ("signature", "tp", "fp", "fn", "precision", "recall")]
    for sig in sorted(scores):
        e = scores[sig]
        lines.append("%-32s %4d %4d %4d %9.2f %7.2f" % (sig, e["tp"], e["fp"], e["fn"], e["precision"], e["recall"]))
    return "\n".join(lines)
