"""DetectionEngine: event time, lateness, learning and persistence around the detectors.

Event time. The watermark is the highest record end time seen (or given to ``advance``), never the
wall clock, so replays of old captures behave like live traffic. The lateness horizon is
``watermark - max_lateness``: windows ending before it are closed, and a record ending before it
is a late record - counted, still judged by the per-record signatures (threat intel, management,
RDMA, inference source/hours/geo, supply chain after learning), but never re-opening a window
(exfil sums, long-lived chains, volume buckets, learning sets).

Dispatch (flows arrive oriented: src is the initiator):
  - threat_match set                        -> threat_intel_match
  - dest role AI and dest_port management   -> management_unexpected_source
  - dest role inference and inference port  -> inference signatures and volume
  - src role AI and dest external           -> outbound: supply chain, exfil, long-lived
    (replies of an inbound connection have an external src, so they are never outbound)
  - UDP 4791 with exactly one AI end        -> rdma_on_frontend
"""
from __future__ import annotations

import logging
import math
import os
import time as _time

from . import allowlist as _al
from .allowlist import Allowlist
from .exfil import ExfilDetector
from .hours import OperationalHours
from .inference import InferenceDetector
from .learning import Learning
from .longlived import LongLivedDetector
from .policy import PolicyDetector, PROTO_UDP, ROCE_V2_PORT
from .signatures import AI_ROLES, SIGNATURES
from ..state_files import set_aside
from .state import load_json, save_json
from .supply_chain import SupplyChainDetector
from .volume import VolumeDetector

log = logging.getLogger("boundaryflow")

STATE_FILE = "detect_state.json"
STATE_VERSION = 1

# Caps on every table of state (entries). Override per engine with DetectionEngine(..., limits={}).
DEFAULT_LIMITS = {
    "pairs": 100000,                 # exfil (src, dest) pairs with open windows
    "connections": 200000,           # outbound connections followed for long_lived
    "hosts": 50000,                  # AI hosts with learned destinations
    "dests_per_host": 4096,          # learned external destinations per AI host
    "endpoints": 10000,              # inference endpoints (geo and volume baselines)
    "countries_per_endpoint": 300,
    "connections_per_bucket": 50000, # distinct connections remembered per endpoint per 5 min
    "dedup": 200000,                 # de-duplication keys per signature
}
MAINTENANCE_EVERY = 60.0             # event seconds between closing windows
PRUNE_EVERY = 900.0                  # event seconds between sweeps of expired state
REFRESH_EVERY = 5.0                  # wall seconds between allowlist file checks
FUTURE_TOLERANCE = 86400.0           # a record ending > 1 day after the wall clock is a bad clock

_NEG_INF = float("-inf")


class DetectionEngine(object):

    def __init__(self, cfg, state_dir, limits=None):
        det, col = cfg.detection, cfg.collector
        self._cfg = cfg
        self.limits = dict(DEFAULT_LIMITS, **(limits or {}))
        lookups_dir = cfg.enrichment.lookups_dir
        self.egress_allowlist = Allowlist(lookups_dir, _al.EGRESS)
        self.inference_allowlist = Allowlist(lookups_dir, _al.INFERENCE)
        self.management_allowlist = Allowlist(lookups_dir, _al.MANAGEMENT)
        self.hours = OperationalHours(det.operational_hours, det.timezone)
        self._build_state()
        self._inference_ports = frozenset(det.inference_ports)
        self._management_ports = frozenset(det.management_ports)
        self._lateness = col.max_lateness
        self._next_maintenance = _NEG_INF
        self._next_prune = _NEG_INF
        self._next_refresh = 0.0
        self._future_limit = _time.time() + FUTURE_TOLERANCE
        self.flows_seen = 0
        self.late_records = 0
        self.untimed_records = 0
        self.future_records = 0
        self.unoriented_records = 0
        self.findings = dict.fromkeys(SIGNATURES, 0)
        self.state_path = os.path.join(state_dir, STATE_FILE) if state_dir else None
        self.state_loaded = False
        self.state_error = None
        self.saves = 0
        self.last_save_bytes = 0
        self._load()

    def _build_state(self):
        """Fresh learning, watermark and detectors (at start, or after an unreadable state file)."""
        det, col, lim = self._cfg.detection, self._cfg.collector, self.limits
        self.watermark = _NEG_INF
        self.learning = Learning(det.learning_period)
        self.exfil = ExfilDetector(det, col, self.egress_allowlist, lim)
        self.long_lived = LongLivedDetector(det, col, self.egress_allowlist, lim)
        self.supply_chain = SupplyChainDetector(det, self.egress_allowlist, self.learning, lim)
        self.inference = InferenceDetector(det, self.inference_allowlist, self.hours, self.learning, lim)
        self.volume = VolumeDetector(det, self.learning, lim)
        self.policy = PolicyDetector(det, self.management_allowlist, lim)
        self._detectors = (self.exfil, self.long_lived, self.supply_chain, self.inference, self.volume,
                           self.policy)

    # -- the stream ----------------------------------------------------------------------------
    def process(self, flow):
        """Judge one record; returns the findings it completes (possibly from closed windows)."""
        # Per-record hot path: attributes are read once from the record's dict (defaults as in
        # model.Flow) and most records (AI <-> AI east-west traffic) leave after the role tests.
        self.flows_seen += 1
        get = flow.__dict__.get
        end = get("end", 0.0)
        if not end or end <= 0:
            self.untimed_records += 1
            return []
        out = []
        if end > self.watermark:
            # A record may not move event time beyond its arrival + max_lateness (nor a day past the
            # wall clock): an exporter whose clock runs ahead would otherwise make every other
            # exporter's records late. Such a record is judged on its own but moves no window.
            arrival = get("arrival")
            limit = self._future_limit if arrival is None else min(self._future_limit, arrival + self._lateness)
            if end > limit:
                self.future_records += 1
                late = True                      # judged per record, but never moves time
                record_end = end
                end = None
            else:
                self.watermark = end
                if end >= self._next_maintenance:
                    self._maintain(end - self._lateness, out)
                late = False
                record_end = end
        else:
            record_end = end
            late = end < self.watermark - self._lateness
            if late:
                self.late_records += 1
        learning = self.learning
        if learning.start is None and not late:
            learning.begin(end)
        in_learning = record_end < learning.end
        if not get("oriented", False):
            self.unoriented_records += 1
        src_role, dest_role = get("src_role"), get("dest_role")
        src_ai, dest_ai = src_role in AI_ROLES, dest_role in AI_ROLES
        if get("threat_match"):
            self.policy.threat_intel(flow, out)
        if dest_ai:
            port = get("dest_port", 0)
            if dest_role == "inference" and port in self._inference_ports:
                self.inference.observe(flow, late, in_learning, out)
                if not late:
                    self.volume.observe(flow, out)
            if port in self._management_ports:
                self.policy.management_access(flow, out)
        if src_ai and not get("dest_internal"):
            self._outbound(flow, late, in_learning, out)
        if src_ai is not dest_ai and get("protocol_number", 0) == PROTO_UDP and (
                get("dest_port", 0) == ROCE_V2_PORT or get("src_port", 0) == ROCE_V2_PORT):
            self.policy.rdma_frontend(flow, out)
        if out:
            self._count(out)
        return out

    def _outbound(self, flow, late, in_learning, out):
        """src is an AI host that initiated to an external destination."""
        allowed = self.egress_allowlist.match(flow.dest_ip)
        if in_learning:
            if not late:
                self.supply_chain.learn(flow.src_ip, flow.dest_ip)
        elif allowed is None:
            self.supply_chain.check(flow, out)
        if allowed is None and not late:
            self.exfil.observe(flow, out)
            self.long_lived.observe(flow, out)

    def advance(self, event_time):
        """The stream has reached ``event_time`` (e.g. on a tick with no traffic): move the
        watermark there and close the windows that ended before ``event_time - max_lateness``.
        ``advance(math.inf)`` at the end of a replay closes every pending window (confirms
        low-and-slow candidates) without moving the watermark. Returns the findings completed."""
        out = []
        self._refresh(force=True)
        if math.isinf(event_time) and event_time > 0:
            self._maintain(math.inf, out)
        else:
            if self.watermark < event_time <= self._future_limit:
                self.watermark = float(event_time)
            self._maintain(self.watermark - self._lateness, out)
        if out:
            self._count(out)
        return out

    def _maintain(self, close_horizon, out):
        """Close windows up to ``close_horizon``; sweep expired state now and then."""
        horizon = self.watermark - self._lateness
        self.exfil.close(close_horizon, out)
        self.volume.close(horizon)
        lr = self.learning
        if lr.start is not None and not lr.completed and horizon >= lr.end:
            lr.completed = True
        if horizon >= self._next_prune:
            self.exfil.prune(horizon)
            self.long_lived.prune(horizon)
            self.inference.prune(horizon)
            self.policy.prune(horizon)
            self._next_prune = horizon + PRUNE_EVERY
        if self.watermark > _NEG_INF:
            self._next_maintenance = (math.floor(self.watermark / MAINTENANCE_EVERY) + 1) * MAINTENANCE_EVERY
        self._refresh()

    def _refresh(self, force=False):
        now = _time.monotonic()
        if force or now >= self._next_refresh:
            for a in (self.egress_allowlist, self.inference_allowlist, self.management_allowlist):
                a.refresh()
            self._next_refresh = now + REFRESH_EVERY
            self._future_limit = _time.time() + FUTURE_TOLERANCE

    def _count(self, out):
        f = self.findings
        for finding in out:
            f[finding.signature] = f.get(finding.signature, 0) + 1

    # -- health --------------------------------------------------------------------------------
    def health(self):
        sizes, evictions = {}, {}
        for d in self._detectors:
            sizes.update(d.sizes())
            evictions.update(d.evictions())
        return {
            "flows_seen": self.flows_seen, "late_records": self.late_records,
            "untimed_records": self.untimed_records, "future_records": self.future_records,
            "unoriented_records": self.unoriented_records,
            "watermark": None if self.watermark == _NEG_INF else self.watermark,
            "findings": dict(self.findings), "findings_total": sum(self.findings.values()),
            "learning": self.learning.health(),
            "state": sizes, "evictions": evictions,
            "allowlists": {a.filename: a.health() for a in (
                self.egress_allowlist, self.inference_allowlist, self.management_allowlist)},
            "state_file": {"path": self.state_path, "loaded": self.state_loaded, "error": self.state_error,
                           "saves": self.saves, "last_save_bytes": self.last_save_bytes},
        }

    # -- persistence ---------------------------------------------------------------------------
    def save(self):
        """Persist all detector state (atomic JSON write). No state_dir: nothing to do."""
        if not self.state_path:
            return
        doc = {"version": STATE_VERSION, "saved_at": _time.time(),
               "watermark": None if self.watermark == _NEG_INF else self.watermark,
               "learning_start": self.learning.start, "learning_completed": self.learning.completed,
               "exfil": self.exfil.to_state(), "long_lived": self.long_lived.to_state(),
               "supply_chain": self.supply_chain.to_state(), "inference": self.inference.to_state(),
               "volume": self.volume.to_state(), "policy": self.policy.to_state()}
        self.last_save_bytes = save_json(self.state_path, doc)
        self.saves += 1

    def _load(self):
        if not self.state_path:
            return
        doc, err = load_json(self.state_path)
        if doc is None:
            self.state_error = err
            if err:
                log.warning("%s", err)
            return
        if not isinstance(doc, dict) or doc.get("version") != STATE_VERSION:
            self.state_error = "%s: unknown state version %r; %s; starting fresh" % (
                self.state_path, doc.get("version") if isinstance(doc, dict) else None, set_aside(self.state_path))
            log.warning("%s", self.state_error)
            return
        try:
            if doc.get("watermark") is not None:
                self.watermark = float(doc["watermark"])
            if doc.get("learning_start") is not None:
                self.learning.begin(float(doc["learning_start"]))
                self.learning.completed = bool(doc.get("learning_completed"))
            self.exfil.load_state(doc.get("exfil") or {})
            self.long_lived.load_state(doc.get("long_lived") or {})
            self.supply_chain.load_state(doc.get("supply_chain") or {})
            self.inference.load_state(doc.get("inference") or {})
            self.volume.load_state(doc.get("volume") or {})
            self.policy.load_state(doc.get("policy") or {})
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as e:
            self.state_error = "%s: unreadable state (%s); %s; starting fresh" % (
                self.state_path, e, set_aside(self.state_path))
            log.warning("%s", self.state_error)
            self._build_state()
            return
        self.state_loaded = True
