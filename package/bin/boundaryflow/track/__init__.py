"""Connection tracking: duplicate-exporter removal and initiator (client) orientation.

Contract:  tracker = Tracker(cfg);  keep = tracker.process(flow)   # bool; orients in place
A False return means the record is a duplicate of a flow an authoritative exporter already
reports (counted in ``tracker.counters``). After ``process`` the flow's src is the initiator
when it can be told (DESIGN.md §3) and ``flow.oriented`` is True.
"""
