"""Connection tracking: duplicate-exporter removal and initiator (client) orientation.

Contract:  tracker = Tracker(cfg);  keep = tracker.process(flow)   # bool; orients in place
A False return means the record is a duplicate of a flow an authoritative exporter already
reports (counted in ``tracker.counters``). After ``process`` the flow's src is the initiator
when it can be told (DESIGN.md §3) and ``flow.oriented`` is True.

``tracker.counters``: records_in, duplicates_dropped, swapped, orient_<evidence> (decoder,
tcp_syn, icmp_type, known_connection, service_port, first_seen), connections (memory in use),
connections_evicted (cap) and connections_expired (idle), and
exporters = {exporter: {"duplicates_dropped": n}}.
Memory is bounded by ``[collector] max_connections`` connections.
"""
from .tracker import Tracker

__all__ = ["Tracker"]
