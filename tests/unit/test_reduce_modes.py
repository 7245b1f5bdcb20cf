"""Reduction modes: lossless totals, stitching, consolidation that keeps security detail."""
import random

from hypothesis import given, settings, strategies as st

from boundaryflow import config
from boundaryflow.model import Flow, flow_event
from boundaryflow.reduce import Reducer

SYN, ACK, FIN, PSH = 0x02, 0x10, 0x01, 0x08


def rec(src, sport, dest, dport, out=(0, 0), inb=(0, 0), flags=0, start=0.0, end=1.0, proto=6,
        exporter="192.0.2.1", **kw):
    f = Flow()
    f.src_ip, f.src_port, f.dest_ip, f.dest_port, f.protocol_number = src, sport, dest, dport, proto
    f.bytes_out, f.packets_out = out
    f.bytes_in, f.packets_in = inb
    f.tcp_flags, f.start, f.end, f.exporter = flags, start, end, exporter
    f.oriented = True
    for k, v in kw.items():
        setattr(f, k, v)
    return f


def reducer(mode, interval="60s", **kw):
    return Reducer(config.default(reduction_mode=mode, reduction_interval=interval, **kw))


def run(red, flows, keep=lambda f: False):
    out = []
    for f in flows:
        out.extend(red.add(f, keep_detail=keep(f)))
    out.extend(red.flush(0, final=True))
    return out


def totals(rows):
    return (sum(r.bytes_in for r in rows), sum(r.bytes_out for r in rows),
            sum(r.packets_in for r in rows), sum(r.packets_out for r in rows),
            sum(r.flow_count for r in rows))


def test_flow_mode_is_one_to_one():
    red = reducer("flow")
    f = rec("10.0.0.1", 40000, "10.0.0.2", 443, out=(10, 1))
    assert red.add(f) == [f]
    assert red.flush(1e9, final=True) == []
    assert red.counters["flows_in"] == red.counters["events_out"] == 1


def test_conversation_stitches_both_directions_within_an_interval():
    red = reducer("conversation")
    fwd = rec("10.0.0.1", 40000, "192.0.2.7", 443, out=(1000, 10), flags=SYN | ACK | PSH, start=5, end=20)
    rev = rec("10.0.0.1", 40000, "192.0.2.7", 443, inb=(50000, 40), flags=ACK | FIN, start=6, end=25)
    assert red.add(fwd) == [] and red.add(rev) == []
    assert red.flush(59.9) == []                      # interval [0, 60) still open
    [row] = red.flush(60.0)
    assert (row.bytes_out, row.bytes_in, row.packets_out, row.packets_in) == (1000, 50000, 10, 40)
    assert row.tcp_flags == SYN | ACK | PSH | FIN and (row.start, row.end) == (5, 25)
    assert row.flow_count == 2
    ev = flow_event(row)
    assert ev["bytes"] == 51000 and ev["flow_count"] == 2 and ev["src_port"] == 40000
    # the input records were not modified
    assert fwd.bytes_in == 0 and fwd.flow_count == 1
    c = red.counters
    assert (c["flows_in"], c["events_out"], c["reduction_ratio"]) == (2, 1, 2.0)
    assert c["exporters"]["192.0.2.1"] == {"flows_in": 2, "events_out": 1, "reduction_ratio": 2.0}


def test_intervals_are_aligned_to_event_time_and_late_records_are_not_lost():
    red = reducer("conversation", "60s")
    red.add(rec("10.0.0.1", 40000, "192.0.2.7", 443, out=(1, 1), end=59))
    red.add(rec("10.0.0.1", 40000, "192.0.2.7", 443, out=(2, 1), end=61))
    first = red.flush(61)
    assert [r.bytes_out for r in first] == [1]
    late = rec("10.0.0.1", 40000, "192.0.2.7", 443, out=(4, 1), end=30)   # after its interval closed
    red.add(late)
    rest = red.flush(120)
    assert sorted(r.bytes_out for r in rest) == [2, 4]


def test_different_exporters_are_different_rows():
    red = reducer("conversation")
    rows = run(red, [rec("10.0.0.1", 1, "10.0.0.2", 443, out=(1, 1), exporter=e) for e in ("a", "b", "a")])
    assert sorted((r.exporter, r.flow_count) for r in rows) == [("a", 2), ("b", 1)]


def test_consolidated_aggregates_source_ports_but_keeps_security_detail():
    red = reducer("consolidated")
    plain = [rec("10.0.0.1", 40000 + i, "10.5.0.9", 443, out=(100, 1), app="https", src_internal=True,
                 dest_internal=True) for i in range(50)]
    ai_out = [rec("10.1.0.5", 50000 + i, "203.0.113.9", 443, out=(1 << 20, 100), src_role="gpu_node",
                  src_internal=True, dest_internal=False) for i in range(3)]
    threat = [rec("10.0.0.7", 41000, "198.51.100.66", 443, out=(10, 1), threat_match="198.51.100.66",
                  dest_internal=False, src_internal=True)]
    used = [rec("10.0.0.8", 42000 + i, "10.5.0.9", 22, out=(10, 1)) for i in range(2)]
    rows = run(red, plain + ai_out + threat + used, keep=lambda f: f.dest_port == 22)
    agg = [r for r in rows if r.src_port is None]
    assert len(agg) == 1 and agg[0].flow_count == 50 and agg[0].bytes_out == 5000
    detail = sorted(r.src_port for r in rows if r.src_port is not None)
    assert detail == [41000, 42000, 42001, 50000, 50001, 50002]
    assert totals(rows) == totals(plain + ai_out + threat + used)
    c = red.counters
    assert c["detail_flows"] == 6 and c["events_out"] == 7
    assert flow_event(agg[0])["src_port"] is None and "community_id" not in flow_event(agg[0])


def test_inbound_to_ai_host_from_outside_is_detail():
    red = reducer("consolidated")
    rows = run(red, [rec("203.0.113.5", 50000 + i, "10.3.0.2", 8000, out=(1, 1), dest_role="inference",
                         src_internal=False, dest_internal=True) for i in range(4)])
    assert len(rows) == 4 and all(r.src_port for r in rows)


def test_memory_cap_flushes_early_and_counts_it():
    red = reducer("conversation", collector_max_connections="1000")
    flows = [rec("10.0.%d.%d" % (i // 200, i % 200), 40000, "10.9.9.9", 443, out=(1, 1), end=10) for i in range(3000)]
    early = []
    for f in flows:
        early.extend(red.add(f))
        assert red.counters["open_keys"] <= 1000
    assert early and red.counters["early_flushed"] == len(early)
    rows = early + red.flush(0, final=True)
    assert totals(rows) == totals(flows) and len(rows) == 3000


flow_strategy = st.builds(
    lambda s, sp, d, dp, bo, bi, end, exp, ai: rec(
        "10.0.0.%d" % s, sp, "10.9.0.%d" % d, dp, out=(bo, bo // 100 + 1), inb=(bi, bi // 100),
        start=end - 1, end=end, exporter=exp, src_role="gpu_node" if ai else None,
        dest_internal=not ai),
    st.integers(1, 4), st.sampled_from([40000, 40001, 40002]), st.integers(1, 3),
    st.sampled_from([22, 443, 8000]), st.integers(0, 10 ** 6), st.integers(0, 10 ** 6),
    st.floats(0, 600, allow_nan=False), st.sampled_from(["a", "b"]), st.booleans())


@settings(max_examples=60, deadline=None)
@given(st.lists(flow_strategy, max_size=60), st.sampled_from(["flow", "conversation", "consolidated"]),
       st.integers(10, 2000))
def test_every_mode_is_lossless_for_bytes_packets_and_records(flows, mode, cap):
    red = reducer(mode, collector_max_connections=str(max(1000, cap)))
    shuffled = list(flows)
    random.Random(1).shuffle(shuffled)
    rows = []
    for i, f in enumerate(shuffled):
        rows.extend(red.add(f))
        if i % 7 == 0:
            rows.extend(red.flush(f.end))
    rows.extend(red.flush(0, final=True))
    assert totals(rows) == totals(flows)
    assert red.counters["events_out"] == len(rows) and red.counters["open_keys"] == 0


def test_tracked_request_and_reply_records_become_one_conversation():
    from boundaryflow.track import Tracker
    cfg = config.default()
    tracker, red = Tracker(cfg), Reducer(cfg)
    request = rec("10.0.0.5", 51000, "192.0.2.80", 443, out=(2000, 20), flags=SYN | ACK | PSH, start=1, end=30)
    reply = rec("192.0.2.80", 443, "10.0.0.5", 51000, out=(90000, 70), flags=SYN | ACK | FIN, start=1, end=31)
    request.oriented = reply.oriented = False
    rows = []
    for f in (reply, request):              # the reply's record may well arrive first
        assert tracker.process(f)
        rows.extend(red.add(f))
    rows.extend(red.flush(60))
    [row] = rows
    ev = flow_event(row)
    assert (ev["src"], ev["src_port"], ev["dest"], ev["dest_port"]) == ("10.0.0.5", 51000, "192.0.2.80", 443)
    assert (ev["bytes_out"], ev["bytes_in"], ev["packets_out"], ev["packets_in"]) == (2000, 90000, 20, 70)
    assert ev["flow_count"] == 2 and ev["tcp_flag"] == ["FIN", "SYN", "PSH", "ACK"]


def test_conversation_row_plane_follows_the_bulk_of_both_halves():
    # Regression: a dataset read exported as two one-way records. The GPU's small request half
    # alone looks like a write (checkpoint); the stitched row must say ingestion.
    from boundaryflow import config as config_mod
    from boundaryflow.model import Flow
    from boundaryflow.reduce import Reducer
    red = Reducer(config_mod.default(reduction_mode="conversation"))
    halves = []
    for out, inn in ((2000, 0), (0, 8 << 30)):
        f = Flow()
        f.src_ip, f.dest_ip, f.src_port, f.dest_port, f.protocol_number = "10.40.0.1", "10.41.0.1", 900, 2049, 6
        f.bytes_out, f.bytes_in, f.start, f.end, f.exporter = out, inn, 100.0, 110.0, "192.0.2.1"
        f.src_role, f.dest_role = "gpu_node", "storage"
        f.plane = "checkpoint" if out > inn else "ingestion"      # what per-record enrichment says
        halves.append(f)
    rows = []
    for f in halves:
        rows += red.add(f)
    rows += red.flush(1000.0, final=True)
    assert len(rows) == 1 and rows[0].plane == "ingestion" and rows[0].bytes_in == 8 << 30
