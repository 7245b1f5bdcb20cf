"""exfil_burst and exfil_low_and_slow: outbound bytes from an AI host to one external destination.

Per (src, dest) pair, outbound bytes (bytes sent by the AI host, already scaled by sampling) go into
bucketed sums, spread evenly over each record's duration so that a long record does not look like
a burst at its end. Two resolutions keep memory bounded: 1-minute buckets for the burst window
(kept for one burst window, one active timeout and max_lateness) and buckets of 1/96 of the slow
window (15 minutes for 24 h) for the slow window. "Within any 1 h" is therefore exact to the
minute and "within any 24 h" to the quarter hour.

A burst is any window of ``exfil_burst_window`` reaching ``exfil_burst_bytes``; it fires at the
record that completes it. Low-and-slow needs ``exfil_slow_bytes`` within any ``exfil_slow_window``
while no burst window was reached: the record that crosses the slow threshold makes a candidate,
confirmed only once the burst window after it has closed (event time, after max_lateness) without
a burst, so the first minutes of a burst are never reported as low-and-slow. The finding's time is
the record that crossed the slow threshold. Note that a transfer just below the burst threshold
but above the slow one is, by definition, low-and-slow.
"""
from __future__ import annotations

import math
from operator import attrgetter

from .bounded import Dedup, LRU, key_from_json
from .signatures import flow_finding, make_finding, geo_of
from .windows import BUCKET_SECONDS, BucketSums

SLOW_BUCKETS = 96       # resolution of the slow window
_FINE_IDX, _COARSE_IDX = attrgetter("fine.idx"), attrgetter("coarse.idx")


class _Pair(object):
    __slots__ = ("fine", "coarse", "first_seen", "last_burst", "records", "last_end")

    def __init__(self, first_seen, fine_width, coarse_width):
        self.fine = BucketSums(fine_width)
        self.coarse = BucketSums(coarse_width)
        self.first_seen = first_seen
        self.last_burst = None
        self.records = 0
        self.last_end = first_seen


class ExfilDetector(object):

    def __init__(self, det, collector, egress, limits):
        self.burst_bytes = det.exfil_burst_bytes
        self.slow_bytes = det.exfil_slow_bytes
        self.burst_window = det.exfil_burst_window
        self.slow_window = det.exfil_slow_window
        self.fine_width = float(BUCKET_SECONDS)
        self.coarse_width = max(self.fine_width, math.ceil(det.exfil_slow_window / SLOW_BUCKETS / 60.0) * 60.0)
        self.burst_buckets = max(1, int(math.ceil(det.exfil_burst_window / self.fine_width)))
        self.slow_buckets = max(1, int(math.ceil(det.exfil_slow_window / self.coarse_width)))
        # A record's bytes are spread over its duration (at most the slow window). Buckets stay as
        # long as a normal record (up to one active timeout long) could still share a window.
        self.max_span = max(self.fine_width, det.exfil_slow_window)
        reach = max(self.fine_width, collector.active_timeout)
        self.keep_fine = det.exfil_burst_window + reach
        self.keep_coarse = det.exfil_slow_window + reach
        self.egress = egress
        self.pairs = LRU(limits["pairs"])
        self.pending = {}
        self.horizon = None          # the lateness horizon at the last sweep
        self.burst_dedup = Dedup(det.dedup_window, limits["dedup"])
        self.slow_dedup = Dedup(det.dedup_window, limits["dedup"])

    def observe(self, flow, out):
        """A non-late outbound record to a destination that is not egress-allowlisted."""
        amount = int(flow.bytes_out)
        if amount <= 0:
            return
        key = (flow.src_ip, flow.dest_ip)
        pair = self.pairs.get(key)
        t = flow.end
        if pair is None:
            pair = _Pair(flow.start or t, self.fine_width, self.coarse_width)
            self.pairs.put(key, pair)
        pair.records += 1
        if t > pair.last_end:
            pair.last_end = t
        fine, coarse = pair.fine, pair.coarse
        if self.horizon is not None:
            self._trim(pair, self.horizon)
        start = flow.start
        flo, fhi = fine.spread(start, t, amount, self.max_span)
        clo, chi = coarse.spread(start, t, amount, self.max_span)
        if coarse.total < self.slow_bytes:      # no window can reach either threshold
            return
        burst, end_idx = fine.max_window(self.burst_buckets, flo, fhi)
        if burst >= self.burst_bytes:
            pair.last_burst = t
            self.pending.pop(key, None)
            if self.burst_dedup.first(key, t):
                out.append(flow_finding("exfil_burst", flow, self._evidence(
                    flow, pair, burst, end_idx, self.burst_buckets, self.fine_width, self.burst_bytes,
                    self.burst_window)))
            return
        if key in self.pending or not self.slow_dedup.allows(key, t):
            return
        if pair.last_burst is not None and pair.last_burst > t - self.slow_window:
            return
        slow, end_idx = coarse.max_window(self.slow_buckets, clo, chi)
        if slow >= self.slow_bytes:
            ev = self._evidence(flow, pair, slow, end_idx, self.slow_buckets, self.coarse_width,
                                self.slow_bytes, self.slow_window)
            ev["burst_threshold_bytes"] = self.burst_bytes
            ev["max_burst_window_bytes"] = burst
            self.pending[key] = {"due": t + self.burst_window, "time": t, "src": flow.src_ip,
                                 "dest": flow.dest_ip, "dest_port": flow.dest_port,
                                 "user": flow.src_user, "dvc": flow.exporter, "evidence": ev}

    def _trim(self, pair, horizon):
        fine, coarse = pair.fine, pair.coarse
        m = int((horizon - self.keep_fine) // self.fine_width)
        if fine.idx and fine.idx[0] < m:
            fine.prune(m)
        m = int((horizon - self.keep_coarse) // self.coarse_width)
        if coarse.idx and coarse.idx[0] < m:
            coarse.prune(m)

    def _evidence(self, flow, pair, total, end_idx, buckets, width, threshold, window):
        return {"bytes_out": total, "threshold_bytes": threshold, "window_seconds": window,
                "window_start": (end_idx - buckets + 1) * width, "window_end": (end_idx + 1) * width,
                "first_seen": pair.first_seen, "records": pair.records,
                "sampling_rate": flow.sampling_rate,
                "allowlist": self.egress.evidence(None), "dest_geo": geo_of(flow, "dest")}

    def close(self, horizon, out):
        """Confirm low-and-slow candidates whose following burst window has closed."""
        if not self.pending:
            return
        for key, c in list(self.pending.items()):
            if c["due"] > horizon:
                continue
            del self.pending[key]
            pair = self.pairs.peek(key)
            last_burst = pair.last_burst if pair is not None else None
            if last_burst is not None and c["time"] - self.slow_window <= last_burst <= c["due"]:
                continue
            if self.slow_dedup.first(key, c["time"]):
                out.append(make_finding("exfil_low_and_slow", c["time"], c["src"], c["dest"], c["evidence"],
                                        dest_port=c["dest_port"], user=c["user"], dvc=c["dvc"]))

    def prune(self, horizon):
        """Forget pairs idle for longer than the slow window; active pairs trim lazily."""
        self.horizon = horizon
        cutoff = horizon - self.keep_coarse
        self.pairs.sweep(lambda pair: pair.last_end < cutoff, keep=self.pending.__contains__)
        self.burst_dedup.prune(horizon)
        self.slow_dedup.prune(horizon)

    def sizes(self):
        pairs = self.pairs.values()
        # map chains keep the sum in C: health runs every interval, and every event minute in a replay
        buckets = sum(map(len, map(_FINE_IDX, pairs))) + sum(map(len, map(_COARSE_IDX, pairs)))
        return {"exfil_pairs": len(self.pairs), "exfil_buckets": buckets, "exfil_pending": len(self.pending)}

    def evictions(self):
        return {"exfil_pairs": self.pairs.evictions,
                "exfil_dedup": self.burst_dedup.evictions + self.slow_dedup.evictions}

    def to_state(self):
        return {"pairs": [[list(k), p.first_seen, p.last_burst, p.records, p.last_end, p.fine.to_state(),
                           p.coarse.to_state()] for k, p in self.pairs.items()],
                "pending": [[list(k), c] for k, c in self.pending.items()],
                "burst_dedup": self.burst_dedup.to_state(), "slow_dedup": self.slow_dedup.to_state()}

    def load_state(self, st):
        for k, first_seen, last_burst, records, last_end, fine, coarse in st.get("pairs", ()):
            pair = _Pair(first_seen, self.fine_width, self.coarse_width)
            pair.last_burst, pair.records, pair.last_end = last_burst, records, last_end
            # Sums saved with other bucket widths (the windows were reconfigured) are dropped.
            if fine[2] == self.fine_width and coarse[2] == self.coarse_width:
                pair.fine, pair.coarse = BucketSums.from_state(fine), BucketSums.from_state(coarse)
            self.pairs.put(key_from_json(k), pair)
        for k, c in st.get("pending", ()):
            self.pending[key_from_json(k)] = c
        self.burst_dedup.load_state(st.get("burst_dedup"))
        self.slow_dedup.load_state(st.get("slow_dedup"))
