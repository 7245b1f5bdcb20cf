"""``generate(...) -> Scenario``: benign traffic over a learning period, then labelled attacks.

    sc = generate(seed=7, start=START_MONDAY, days=3, learning_days=2, attacks=True)
    sc.records       # model.Flow export records in export order (end time + cache-scan delay;
                     # both directions, split by the active timeout)
    sc.truth         # [{signature, src, dest, time_first, time_last}] - one per expected finding key
    sc.near_misses   # [{kind, description, src, dest, time_first, time_last}] - benign look-alikes
    sc.detection_config()   # the [detection]/[enrichment] settings the truth assumes

The same seed gives the same scenario; different seeds pick different hosts, sizes and times.
"""
from __future__ import annotations

import random

from . import attacks as attack_lib
from . import traffic
from .context import DAY, Builder, Timeline
from .model import Plan, write_lookups

START_MONDAY = 1793577600.0        # 2026-11-02 00:00 UTC, a Monday

# Signatures keyed by what their de-duplication rule keys on (DESIGN.md §4): the fields a finding
# and a truth row must share to be the same finding.
MATCH_FIELDS = {
    "inference_unauthorized_source": ("src",),
    "inference_volume_spike": ("dest",),
}
DEFAULT_MATCH_FIELDS = ("src", "dest")


class Scenario(object):
    def __init__(self, plan, timeline, seed, records, truth, near_misses):
        self.plan = plan
        self.timeline = timeline
        self.seed = seed
        self.records = records
        self.truth = truth
        self.near_misses = near_misses

    @property
    def start(self):
        return self.timeline.start

    @property
    def end(self):
        return self.timeline.end

    @property
    def learning_end(self):
        return self.timeline.learning_end

    def write_lookups(self, directory):
        return write_lookups(directory, self.plan, start=int(self.start))

    def config_mapping(self, lookups_dir, **sections):
        """A ``config.from_mapping`` mapping matching the plan; ``sections`` add/override sections."""
        m = {
            "collector": {"active_timeout": "%ds" % self.plan.exporter["active_timeout"]},
            "enrichment": {"lookups_dir": lookups_dir, "internal_networks": self.plan.internal_networks},
            "detection": {"learning_period": "%ds" % int(self.learning_end - self.start),
                          "operational_hours": self.plan.operational_hours,
                          "timezone": self.plan.timezone},
        }
        for name, values in sections.items():
            m.setdefault(name, {}).update(values)
        return m

    def summary(self):
        by = {}
        for t in self.truth:
            by[t["signature"]] = by.get(t["signature"], 0) + 1
        return {"records": len(self.records), "truth": by, "near_misses": len(self.near_misses)}


def generate(seed=1, start=START_MONDAY, days=3, learning_days=2, attacks=True, scale=1.0,
             instances=2, plan=None, export_jitter=20.0):
    """Build a scenario. ``instances`` = attacks per signature; ``scale`` multiplies benign rates;
    ``export_jitter`` = seconds a record may wait in the router's cache after it ended."""
    if not 0 < learning_days < days:
        raise ValueError("learning_days must be > 0 and < days (got %s of %s)" % (learning_days, days))
    plan = plan or Plan.load()
    rng = random.Random(seed)
    tl = Timeline(start, days, learning_days, plan.operational_hours, plan.timezone)
    if not any(a < tl.learning_end for a, _b in tl.windows):
        raise ValueError("the learning period has no operational hours; start on a working day")
    b = Builder(plan, tl, rng, scale)
    for make in traffic.BENIGN:
        make(b)
    attack_lib.near_misses(b)
    if attacks:
        used = set()
        for make in attack_lib.ATTACKS:
            for _ in range(instances):
                for _try in range(5):
                    try:
                        make(b, used)
                        break
                    except (attack_lib.NoRoom, IndexError):
                        continue
    records = b.records(float(plan.exporter["active_timeout"]), export_jitter)
    b.truth.sort(key=lambda t: t["time_first"])
    return Scenario(plan, tl, seed, records, b.truth, b.near_misses)


__all__ = ["generate", "Scenario", "START_MONDAY", "DAY", "MATCH_FIELDS", "DEFAULT_MATCH_FIELDS"]
