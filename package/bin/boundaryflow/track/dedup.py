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
When stronger orientation evidence flips a connection, forward and reverse trade places.
Tracker.process applies this rule inline (it is the per-record hot path).
"""
