"""Export sequence numbers -> loss counters (sequence_gaps / sequence_resets / sequence_reordered).

What a sequence number counts differs: NetFlow v9 and sFlow number export packets, NetFlow v5
and IPFIX number data records. RFC 7011 says the number is the count of records sent BEFORE this
message, so the next one is expected at ``seq + records in this message``; some exporters
(softflowd's IPFIX) send the count AFTER this message instead. When two messages in a row fit
only that reading, the domain is switched to it (the first such message is not counted as loss).

A forward jump up to ``max_gap`` is loss; a larger jump, a big backwards jump, a sequence back at
0, or a v9/sFlow uptime that goes backwards is an exporter restart (reset, not loss); another
small backwards step is a reordered packet.
"""
from __future__ import annotations

MOD = 1 << 32
PACKETS = (65536, 256)         # (max_gap, reorder_window) when counting export packets
RECORDS = (1 << 24, 65536)     # ... when counting data records
UPTIME_BACKWARDS_MS = 10000    # uptime this much lower (and not a 49.7-day wrap) = restart
MAX_KEYS = 1024


RFC, ONE_VOTE, AFTER = 0, 1, 2   # numbering modes per key (see module docstring)


class SequenceTracker(object):
    __slots__ = ("last",)

    def __init__(self):
        self.last = {}   # key -> (last sequence, its advance or None if unknown, last uptime, mode)

    def check(self, counters, key, seq, advance, limits, uptime=None):
        """Account one export message. ``advance`` None = unknown (data held for a template)."""
        prev = self.last.get(key)
        mode = RFC
        if prev is not None:
            last_seq, last_advance, last_up, mode = prev
            # fast path, the usual case: exactly the number expected in an RFC or AFTER domain
            step = advance if mode == AFTER else last_advance
            if step is not None and mode != ONE_VOTE and (last_seq + step) % MOD == seq:
                self.last[key] = (seq, advance, uptime, mode)
                return
            max_gap, reorder = limits
            rfc = None if last_advance is None else (last_seq + last_advance) % MOD
            after = None if advance is None else (last_seq + advance) % MOD
            expected = after if mode == AFTER else rfc
            uptime_back = (uptime is not None and last_up is not None
                           and UPTIME_BACKWARDS_MS < last_up - uptime < (1 << 31))
            diff = None if expected is None else (seq - expected) % MOD
            if diff and mode != AFTER and seq == after:
                # fits only "numbered after this message": a vote, switched on the second
                mode, diff = (AFTER if mode == ONE_VOTE else ONE_VOTE), 0
            elif diff == 0 and mode == ONE_VOTE and seq != after:
                mode = RFC
            if diff == 0:
                pass        # contiguous (replayers like nfreplay rewrite uptime: not a restart)
            elif uptime_back:
                counters["sequence_resets"] += 1
            elif diff is not None:
                if diff <= max_gap:
                    counters["sequence_gaps"] += diff
                elif diff >= MOD - reorder and seq != 0:   # back to 0 = restarted
                    counters["sequence_reordered"] += 1
                    return          # a late packet: keep expecting what we expected
                else:
                    counters["sequence_resets"] += 1
        elif len(self.last) >= MAX_KEYS:
            self.last.clear()
        self.last[key] = (seq, advance, uptime, mode)
