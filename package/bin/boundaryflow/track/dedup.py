"""Duplicate-exporter removal: one authoritative exporter per path (DESIGN.md §2, issue 6).

When several exporters (e.g. a border router and a core switch) report the same flow, the first
exporter seen for an oriented 5-tuple owns it; overlapping records of that 5-tuple from any other
exporter are dropped. Ownership is sticky while the owner keeps reporting and lapses ``slack``
seconds after the owner's last record, so a later connection reusing the 5-tuple may be owned by
another exporter.

Ownership is kept per direction: with asymmetric routing one exporter may carry the requests and
another the replies of the same connection, and both halves are real traffic. A record is a
duplicate only when every direction it carries is owned by another exporter whose last record
still overlaps it in time.

Entries are tuples (low end initiated, fwd owner, fwd last end, rev owner, rev last end): tuples of
atomic values drop out of the cyclic garbage collector's lists, which keeps large tables cheap.
"""
from __future__ import annotations


def new_entry(low_initiated):
    return (low_initiated, None, 0.0, None, 0.0)


def claim(entry, flow, slack):
    """The entry with the record's directions claimed for its exporter; None for a duplicate."""
    exporter = flow.exporter
    fwd = bool(flow.packets_out or flow.bytes_out)
    rev = bool(flow.packets_in or flow.bytes_in)
    if not (fwd or rev):
        fwd = True                      # a record with no counters still counts as forward
    low, f_owner, f_end, r_owner, r_end = entry
    start, end = flow.start, flow.end
    take_fwd = fwd and (f_owner is None or f_owner == exporter or start > f_end + slack)
    take_rev = rev and (r_owner is None or r_owner == exporter or start > r_end + slack)
    if not (take_fwd or take_rev):
        return None
    if take_fwd:
        f_end = end if f_owner != exporter or end > f_end else f_end
        f_owner = exporter
    if take_rev:
        r_end = end if r_owner != exporter or end > r_end else r_end
        r_owner = exporter
    return (low, f_owner, f_end, r_owner, r_end)


def reoriented(entry, low_initiated):
    """The connection's orientation was corrected: forward and reverse trade places."""
    _low, f_owner, f_end, r_owner, r_end = entry
    return (low_initiated, r_owner, r_end, f_owner, f_end)
