"""Hostile input through Pipeline.handle_datagram (issue 7): floods are capped per exporter, the
exporter allowlist drops and counts, every datagram is accounted for, memory stays bounded.

test_decode_fuzz.py already fuzzes decode() itself (~100k cases); this module drives the layers
after it (track, enrich, detect, reduce, health) with the same kind of hostile traffic.
"""
import gc
import logging
import os
import ipaddress
import random
import struct
import tracemalloc

import pytest

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import decode_builders as B
from boundaryflow import config
from boundaryflow.pipeline import Pipeline
from list_sink import ListSink  # noqa: E402,F401  (tests/list_sink.py)

# scripts/soak.sh sets BF_RELIABILITY_SCALE=10 for the long variants
SCALE = max(1, int(os.environ.get("BF_RELIABILITY_SCALE", "1")))
FAST = dict(derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
V9_T = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (1, 4), (2, 4), (22, 4), (21, 4)]
V9_R = B.encode_record(V9_T, ["10.0.0.1", "10.0.0.2", 40000, 443, 6, 0x12, 1000, 3, 9000, 9500])
IP_T = [(0, 8, 4), (0, 12, 4), (0, 7, 2), (0, 11, 2), (0, 4, 1), (0, 1, 8), (0, 2, 8), (0, 150, 4), (0, 151, 4)]
IP_R = B.encode_record(IP_T, ["10.1.0.1", "8.8.8.8", 40001, 53, 17, 100, 1, 1699999990, 1700000000])
GOOD = [
    B.v5([B.v5_record(), B.v5_record(proto=17, dport=53)]),
    B.v9([B.v9_template_set([(256, V9_T)]), B.data_set(256, [V9_R, V9_R])], source_id=1, seq=1),
    B.ipfix([B.ipfix_template_set([(300, IP_T)]), B.data_set(300, [IP_R])], domain=3, seq=0),
    B.sflow([B.sflow_flow_sample([B.sflow_raw_header_record(B.ethernet_ipv4_tcp(vlan=5), 300)]),
             B.sflow_counter_sample()]),
]


@pytest.fixture(autouse=True)
def quiet(caplog):
    """Keep pytest from storing thousands of expected warnings (its capture would grow memory)."""
    caplog.set_level(logging.ERROR, logger="boundaryflow")


def make_pipeline(tmp_path, **collector):
    lookups = tmp_path / "lookups"
    lookups.mkdir(exist_ok=True)
    collector.setdefault("state_dir", str(tmp_path / "state"))
    cfg = config.from_mapping({"collector": {k: str(v) for k, v in collector.items()},
                               "enrichment": {"lookups_dir": str(lookups)},
                               "reduction": {"mode": "flow"}}, str(tmp_path))
    sink = ListSink()
    return Pipeline(cfg, sink), sink


def collector_health(pipe, now=1700000100.0):
    return [e["event"] for e in pipe.health_events(now) if e["event"]["scope"] == "collector"][0]


def assert_accounted(pipe):
    """Every datagram is either rejected by the allowlist or reached one exporter's decoder, and every
    decode error is counted once in the totals and once per exporter."""
    t = pipe.counters()
    per_exporter = sum(s.datagrams for s in pipe.stats.values())
    evicted_stats = t["datagrams"] - t.get("exporter_rejected", 0) - per_exporter
    assert evicted_stats >= 0
    if len(pipe.stats) == len(pipe.states):    # no per-exporter stats were dropped
        assert evicted_stats == 0
        assert t.get("decode_errors", 0) == sum(s.decode_errors for s in pipe.stats.values())
        assert t.get("decode_errors", 0) == sum(st_.counters["decode_errors"] for st_ in pipe.states.values())


def template_flood(n, version, first_id=256):
    """n distinct templates, 20 per datagram."""
    out = []
    for base in range(first_id, first_id + n, 20):
        tpls = [(tid, V9_T) for tid in range(base, min(base + 20, first_id + n))]
        if version == 9:
            out.append(B.v9([B.v9_template_set(tpls)], source_id=7))
        else:
            out.append(B.ipfix([B.ipfix_template_set([(t, [(0,) + f for f in V9_T]) for t, _ in tpls])], domain=7))
    return out


def test_template_flood_is_capped_per_exporter_and_counted(tmp_path):
    pipe, _sink = make_pipeline(tmp_path, max_templates=64)
    for version in (9, 10):
        for d in template_flood(2000, version):
            pipe.handle_datagram(d, "192.0.2.10", 1700000000.0)
    state = pipe.states["192.0.2.10"]
    assert len(state.templates) <= 64
    assert state.counters["templates_rejected"] >= 2 * 2000 - 64
    h = [e["event"] for e in pipe.health_events(1700000001.0) if e["event"].get("exporter") == "192.0.2.10"][0]
    assert h["templates_rejected"] == state.counters["templates_rejected"]
    # another exporter is not affected by the flood
    pipe.handle_datagram(GOOD[1], "192.0.2.11", 1700000000.0)
    assert pipe.stats["192.0.2.11"].flows == 2 and pipe.stats["192.0.2.11"].decode_errors == 0
    assert_accounted(pipe)


N_SPOOFED = 3000 * SCALE


def test_spoofed_exporter_flood_is_capped_and_evictions_counted(tmp_path):
    pipe, _sink = make_pipeline(tmp_path, max_exporters=50)
    spoofed = [str(ipaddress.ip_address("198.18.0.0") + i) for i in range(N_SPOOFED)]
    for ip in spoofed:
        pipe.handle_datagram(GOOD[1], ip, 1700000000.0)     # template + data from each spoofed source
    assert len(pipe.states) <= 50
    assert len(pipe.stats) <= 100
    assert len(pipe._persisted) <= 50
    t = pipe.counters()
    assert t["exporters_evicted"] == N_SPOOFED - 50
    assert t["datagrams"] == N_SPOOFED
    assert collector_health(pipe)["exporters_evicted"] == N_SPOOFED - 50
    pipe.close(now=1700000100.0)      # the bounded template store persists
    assert (tmp_path / "state" / "templates.json").stat().st_size < 50 * 50 * 1024


def test_exporter_allowlist_drops_and_counts_everything_else(tmp_path):
    pipe, sink = make_pipeline(tmp_path, exporters="10.0.0.0/8,2001:db8::/32")
    rng = random.Random(3)
    for i in range(2000):
        bad = "203.0.113.%d" % (i % 250) if i % 2 else "2001:db9::%x" % i
        pipe.handle_datagram(GOOD[i % 4], bad, 1700000000.0)
    for d in GOOD:
        pipe.handle_datagram(d, "10.9.9.9", 1700000000.0)
        pipe.handle_datagram(bytes(rng.getrandbits(8) for _ in range(60)), "2001:db8::5", 1700000000.0)
    t = pipe.counters()
    assert t["exporter_rejected"] == 2000
    assert set(pipe.states) == {"10.9.9.9", "2001:db8::5"}
    assert pipe.stats["2001:db8::5"].decode_errors == 4
    assert collector_health(pipe)["exporter_rejected"] == 2000
    assert_accounted(pipe)
    pipe.close(now=1700000100.0)
    assert not any("203.0.113." in str(e["event"].get("exporter", "")) for e in sink.events)


# Regression: sFlow v5 encodes the sampled_ipv4/ipv6 records' ports and protocol as 32-bit integers;
# a port > 65535 crashed the tracker and stopped the collector (found by fuzz_pipeline after 377,682
# inputs). The decoder now counts such a sample as malformed.


def sampled_ipv4_record(proto, sport, dport, length=1500):
    """sFlow v5 flow record 'sampled_ipv4' (enterprise 0, format 3): every field a 32-bit integer."""
    body = struct.pack("!II4s4sIIII", length, proto, bytes((10, 1, 0, 5)), bytes((203, 0, 113, 9)), sport, dport,
                       0x12, 0)
    return struct.pack("!II", 3, len(body)) + body


@pytest.mark.parametrize("proto,sport,dport", [(6, 70000, 443), (17, 40000, 0xFFFFFFFF)])
def test_sflow_sampled_ipv4_with_out_of_range_values_is_not_fatal(tmp_path, proto, sport, dport):
    d = B.sflow([B.sflow_flow_sample([sampled_ipv4_record(proto, sport, dport)])])
    pipe, _sink = make_pipeline(tmp_path)
    pipe.handle_datagram(d, "10.0.0.1", 1700000000.0)
    pipe.close(now=1700000010.0)
    assert_accounted(pipe)


def mutate(data, edits, cut):
    b = bytearray(data)
    for pos, value in edits:
        b[pos % len(b)] = value
    return bytes(b[:len(b) - cut % len(b)] if cut else b)


@pytest.mark.parametrize("version", [9, 10])
@pytest.mark.parametrize("field,length,proto", [(7, 3, 6), (11, 3, 6), (32, 4, 1), (139, 4, 1)])
def test_oversized_integer_field_is_rejected_not_fatal(tmp_path, version, field, length, proto):
    """Found by fuzz_pipeline: a port of 3 bytes or an ICMP type of 4 once crashed the tracker and
    Community ID (IndexError / struct.error escaping handle_datagram stopped the collector)."""
    tpl = [(f, n) for f, n in V9_T if f not in (7, 11) or field in (7, 11)]
    tpl = [(f, length if f == field else n) for f, n in tpl] + ([(field, length)] if field not in (7, 11) else [])
    values = {8: "10.0.0.1", 12: "10.0.0.2", 7: 40000, 11: 443, 4: proto, 6: 0x12, 1: 1000, 2: 3, 22: 9000,
              21: 9500}
    values[field] = (1 << (8 * length)) - 1
    rec = B.encode_record(tpl, [values[f] for f, _n in tpl])
    if version == 9:
        d = B.v9([B.v9_template_set([(256, tpl)]), B.data_set(256, [rec])], source_id=1)
    else:
        d = B.ipfix([B.ipfix_template_set([(256, [(0,) + f for f in tpl])]), B.data_set(256, [rec])], domain=1)
    pipe, _sink = make_pipeline(tmp_path)
    pipe.handle_datagram(d, "10.0.0.1", 1700000000.0)
    pipe.close(now=1700000010.0)
    assert_accounted(pipe)


# Regression: decode warnings were rate-limited per exporter only, so garbage from thousands of
# spoofed sources produced one log line each; the limit is now collector-wide, with a summary.


def test_garbage_from_spoofed_sources_cannot_flood_the_log(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="boundaryflow")
    pipe, _sink = make_pipeline(tmp_path, max_exporters=100)
    for i in range(5000):
        pipe.handle_datagram(b"\xde\xad\xbe\xef" * 4, "198.18.%d.%d" % (i // 250, i % 250), 1700000000.0)
    assert pipe.counters()["decode_errors"] == 5000
    lines = [r for r in caplog.records if r.name.startswith("boundaryflow")]
    assert len(lines) <= 200, "%d log lines for 5000 garbage datagrams" % len(lines)


@settings(max_examples=800 * SCALE, phases=[Phase.explicit, Phase.generate], **FAST)
@given(edits=st.lists(st.tuples(st.integers(0, 2047), st.integers(0, 255)), max_size=6),
       cut=st.integers(0, 64), exporter=st.sampled_from(["10.0.0.1", "10.0.0.2", "2001:db8::1"]),
       arrival=st.floats(0, 4e9))
def test_mutated_datagrams_through_the_whole_pipeline(tmp_path_factory, edits, cut, exporter, arrival):
    pipe = PIPES.get("fuzz")
    if pipe is None:
        pipe = PIPES["fuzz"] = make_pipeline(tmp_path_factory.mktemp("fuzz"), max_templates=32,
                                             max_pending=16)[0]
    for d in GOOD:
        pipe.handle_datagram(mutate(d, edits, cut), exporter, arrival)
    pipe.tick(arrival)
    assert_accounted(pipe)
    assert all(len(s.templates) <= 32 and s.pending_count() <= 16 for s in pipe.states.values())


PIPES = {}


def hostile_round(pipe, rng, i):
    """One round of everything at once: random bytes, template churn, spoofed sources, good data."""
    ip = "198.18.%d.%d" % ((i // 250) % 250, i % 250)
    pipe.handle_datagram(rng.randbytes(rng.randint(0, 200)), ip, 1700000000.0 + i)
    pipe.handle_datagram(template_flood(20, 9, first_id=256 + (i % 3000))[0], ip, 1700000000.0 + i)
    v5 = B.v5([B.v5_record(src="10.%d.%d.1" % (i % 200, i % 7), sport=1024 + i % 60000)], secs=1700000000 + i)
    pipe.handle_datagram(v5, "10.0.0.1", 1700000000.0 + i)
    if i % 100 == 0:
        pipe.tick(1700000000.0 + i)


def test_memory_stays_bounded_under_sustained_hostile_traffic(tmp_path):
    """Traced Python memory after 1,800 hostile rounds is within a small margin of after 600."""
    pipe, sink = make_pipeline(tmp_path, max_exporters=200, max_templates=64, max_pending=16)
    rng = random.Random(11)
    tracemalloc.start()
    try:
        for i in range(600 * SCALE):
            hostile_round(pipe, rng, i)
        sink.events.clear()
        gc.collect()
        first = tracemalloc.get_traced_memory()[0]
        for i in range(600 * SCALE, 1800 * SCALE):
            hostile_round(pipe, rng, i)
        sink.events.clear()
        gc.collect()
        second = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(pipe.states) <= 200
    growth = second - first
    print("\nhostile rounds: traced memory %d KiB after %d rounds, %d KiB after %d (%d datagrams)"
          % (first >> 10, 600 * SCALE, second >> 10, 1800 * SCALE, pipe.counters()["datagrams"]))
    # twice the traffic must not need noticeably more memory (the connection tracker and reducer
    # hold a bounded, time-expired working set)
    assert growth < max(2 << 20, first // 4), (first, second)
    assert_accounted(pipe)


def test_active_exporter_keeps_its_templates_through_a_spoofed_source_flood(tmp_path):
    """Exporter state is evicted least recently USED first: a flood of one-shot spoofed sources
    must not push out a real exporter that keeps sending (it would lose its templates)."""
    pipe, sink = make_pipeline(tmp_path, max_exporters=50)
    fields = [(0, 8, 4), (0, 12, 4), (0, 7, 2), (0, 11, 2), (0, 4, 1), (0, 1, 8)]
    rec = B.encode_record(fields, ["10.0.0.1", "192.0.2.9", 40000, 443, 6, 100])
    pipe.handle_datagram(B.ipfix([B.ipfix_template_set([(256, fields)])], domain=1), "10.9.9.9", 1700000000.0)
    for i in range(3000):
        pipe.handle_datagram(b"\xde\xad\xbe\xef" * 4, "198.18.%d.%d" % (i // 250, i % 250), 1700000000.0)
        if i % 20 == 0:     # the real exporter's data, only ever announced by the template above
            pipe.handle_datagram(B.ipfix([B.data_set(256, [rec])], domain=1, seq=i // 20), "10.9.9.9", 1700000000.0)
    assert pipe.stats["10.9.9.9"].flows == 150
    assert pipe.states["10.9.9.9"].counters["template_misses"] == 0
