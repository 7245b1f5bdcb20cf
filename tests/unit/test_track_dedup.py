"""Duplicate-exporter removal: one authoritative exporter per path."""
from boundaryflow import config
from boundaryflow.track import Tracker

from test_track_orientation import ACK, rec

A, B = "192.0.2.1", "192.0.2.2"


def tracker():
    return Tracker(config.default(collector_inactive_timeout="15s"))


def test_second_exporter_of_the_same_flow_is_dropped_and_counted():
    t = tracker()
    assert t.process(rec("10.0.0.5", 51000, "192.0.2.80", 443, out=(100, 2), exporter=A, start=0, end=60))
    assert not t.process(rec("10.0.0.5", 51000, "192.0.2.80", 443, out=(100, 2), exporter=B, start=0, end=60))
    # the next active-timeout slice: the owner keeps it, the duplicate stays dropped in either order
    assert not t.process(rec("10.0.0.5", 51000, "192.0.2.80", 443, out=(50, 1), exporter=B, start=60, end=120))
    assert t.process(rec("10.0.0.5", 51000, "192.0.2.80", 443, out=(50, 1), exporter=A, start=60, end=120))
    c = t.counters
    assert c["duplicates_dropped"] == 2
    assert c["exporters"] == {B: {"duplicates_dropped": 2}}


def test_duplicate_reported_in_reverse_orientation_is_still_a_duplicate():
    t = tracker()
    assert t.process(rec("10.0.0.5", 51000, "192.0.2.80", 443, out=(100, 2), exporter=A))
    # exporter B saw the server's reply direction only once A's record was oriented; the same
    # reply from A as well:
    assert t.process(rec("192.0.2.80", 443, "10.0.0.5", 51000, out=(900, 3), exporter=A))
    assert not t.process(rec("192.0.2.80", 443, "10.0.0.5", 51000, out=(900, 3), exporter=B))


def test_asymmetric_paths_keep_both_halves():
    # A carries the requests, B the replies: different directions are different paths
    t = tracker()
    assert t.process(rec("10.0.0.5", 51000, "192.0.2.80", 443, out=(100, 2), exporter=A))
    reply = rec("192.0.2.80", 443, "10.0.0.5", 51000, out=(900, 3), exporter=B, flags=ACK)
    assert t.process(reply)
    assert reply.bytes_in == 900 and t.counters["duplicates_dropped"] == 0


def test_ownership_expires_so_a_later_connection_can_move():
    t = tracker()
    assert t.process(rec("10.0.0.5", 51000, "192.0.2.80", 443, out=(1, 1), exporter=A, start=0, end=10))
    # same 5-tuple reused a minute later, now routed through B only
    assert t.process(rec("10.0.0.5", 51000, "192.0.2.80", 443, out=(1, 1), exporter=B, start=70, end=80))
    # ... and B is now the owner
    assert not t.process(rec("10.0.0.5", 51000, "192.0.2.80", 443, out=(1, 1), exporter=A, start=70, end=80))


def test_single_exporter_never_loses_records():
    t = tracker()
    kept = sum(t.process(rec("10.0.0.5", 51000 + (i % 7), "192.0.2.80", 443, out=(1, 1), exporter=A,
                             start=i, end=i + 1)) for i in range(200))
    assert kept == 200
