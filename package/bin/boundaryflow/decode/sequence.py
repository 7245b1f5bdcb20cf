"""Export sequence numbers -> loss counters (sequence_gaps / sequence_resets / sequence_reordered).

What a sequence number counts differs: NetFlow v9 and sFlow number export packets, NetFlow v5
and IPFIX number data records. Either way the next expected value is ``seq + advance`` (mod 2^32).
A forward jump up to ``max_gap`` is loss; a larger jump, a big backwards jump, or a v9 sysUpTime
that goes backwards, or a sequence back at 0, is an exporter restart (reset, not loss); another
small backwards step is a reordered packet.
"""
from __future__ import annotations

MOD = 1 << 32
PACKETS = (65536, 256)         # (max_gap, reorder_window) when counting export packets
RECORDS = (1 << 24, 65536)     # ... when counting data records
UPTIME_BACKWARDS_MS = 10000    # uptime this much lower (and not a 49.7-day wrap) = restart
MAX_KEYS = 1024


class SequenceTracker(object):
    __slots__ = ("expected",)

    def __init__(self):
        self.expected = {}     # key -> (next expected sequence or None, last uptime or None)

    def check(self, counters, key, seq, advance, limits, uptime=None):
        """Account one export packet. ``advance`` None = unknown (e.g. data held for a template)."""
        prev = self.expected.get(key)
        if prev is not None:
            expected, last_up = prev
            max_gap, reorder = limits
            restarted = (uptime is not None and last_up is not None
                         and UPTIME_BACKWARDS_MS < last_up - uptime < (1 << 31))
            if restarted:
                counters["sequence_resets"] += 1
            elif expected is not None:
                diff = (seq - expected) % MOD
                if diff == 0:
                    pass
                elif diff <= max_gap:
                    counters["sequence_gaps"] += diff
                elif diff >= MOD - reorder and seq != 0:   # back to 0 = restarted
                    counters["sequence_reordered"] += 1
                    return          # a late packet: keep expecting what we expected
                else:
                    counters["sequence_resets"] += 1
        elif len(self.expected) >= MAX_KEYS:
            self.expected.clear()
        nxt = None if advance is None else (seq + advance) % MOD
        self.expected[key] = (nxt, uptime)
