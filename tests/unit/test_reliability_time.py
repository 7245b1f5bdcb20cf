"""Time (issue 7), end to end through the Pipeline with scenario traffic whose findings are known.

Already covered closer to the code (not repeated here): sysUptime rollover in the decoders
(test_decode_netflow5.py::test_v5_uptime_rollover, test_decode_netflow9.py::
test_uptime_rollover_between_record_and_export), daylight-saving changes in operational hours
(test_detect_inference.py::test_operational_hours_follow_dst[_fall_back]), late records in each
detector and the reducer (test_detect_engine.py, test_detect_exfil.py, test_reduce_modes.py).
"""
import random

import pytest

import decode_builders as B
from boundaryflow.pipeline import Pipeline
from boundaryflow.scenario.generate import DEFAULT_MATCH_FIELDS, MATCH_FIELDS, generate
from boundaryflow.scenario.ipfix_export import IpfixEncoder
from boundaryflow.scenario.pcap import export_time
from boundaryflow.scenario.replay import engine_config
from test_reliability_restart import ListSink


@pytest.fixture(scope="module")
def scenario():
    sc = generate(seed=4, days=2, learning_days=1, scale=0.1)
    return sc, list(IpfixEncoder(sc.plan.exporter["observation_domain"]).encode(sc.records))


def finding_keys(events):
    """Findings keyed as their de-duplication rule keys them (DESIGN.md §4)."""
    out = set()
    for e in events:
        if e["sourcetype"] == "boundaryflow:finding":
            ev = e["event"]
            out.add((ev["signature"],) + tuple(ev.get(f) for f in MATCH_FIELDS.get(ev["signature"], DEFAULT_MATCH_FIELDS)))
    return out


def run(sc, work, arrivals, extra=None):
    """arrivals: [(arrival time, exporter, datagram)] in arrival order."""
    pipe = Pipeline(engine_config(sc, str(work), mode="flow"), ListSink())
    last = None
    for at, exporter, msg in arrivals:
        pipe.handle_datagram(msg, exporter, at)
        if last is None or at - last >= 60:
            pipe.tick(at)
            last = at
    pipe.close(now=last)
    return finding_keys(pipe.sink.events), pipe.counters()


def in_order(sc, msgs):
    return [(export_time(m), sc.plan.exporter["address"], m) for m in msgs]


@pytest.fixture(scope="module")
def reference(scenario, tmp_path_factory):
    sc, msgs = scenario
    found, counters = run(sc, tmp_path_factory.mktemp("ref"), in_order(sc, msgs))
    assert len(found) >= 20 and counters.get("late_records", 0) == 0
    return found


def jittered(sc, msgs, jitter, seed=5):
    """Datagrams re-ordered as a network would: each delayed by up to ``jitter`` seconds."""
    rng = random.Random(seed)
    delayed = [(export_time(m) + rng.uniform(0, jitter), m) for m in msgs]
    delayed.sort(key=lambda x: x[0])
    return [(at, sc.plan.exporter["address"], m) for at, m in delayed]


def test_out_of_order_export_within_max_lateness_changes_no_finding(scenario, reference, tmp_path):
    sc, msgs = scenario
    arrivals = jittered(sc, msgs, 300)          # up to 5 min: default max_lateness is 10 min
    assert [m for _a, _e, m in arrivals] != msgs
    found, counters = run(sc, tmp_path, arrivals)
    assert counters.get("late_records", 0) == 0
    assert found == reference


def test_records_later_than_max_lateness_are_counted_and_still_emitted(scenario, tmp_path):
    sc, msgs = scenario
    found, counters = run(sc, tmp_path, jittered(sc, msgs, 1200))     # up to 20 min, max_lateness 10 min
    assert counters["late_records"] > 0
    assert counters["flows_in"] == len(sc.records)          # late records are not dropped
    assert counters["events_out"] == counters["flows_in"] - counters.get("duplicates", 0)


def test_data_dropped_while_waiting_for_a_template_is_visible_in_health(scenario, tmp_path):
    sc, msgs = scenario
    pipe = Pipeline(engine_config(sc, str(tmp_path), mode="flow"), ListSink())
    for at, exporter, m in jittered(sc, msgs, 3 * 3600):     # 3 h: longer than the 30 min template_ttl
        pipe.handle_datagram(m, exporter, at)
    dropped = pipe.states[sc.plan.exporter["address"]].counters["pending_dropped"]
    assert dropped > 0
    health = [e["event"] for e in pipe.health_events(sc.end) if e["event"].get("exporter") == sc.plan.exporter["address"]]
    assert health[0].get("pending_dropped") == dropped


def test_an_exporter_clock_running_ahead_does_not_change_other_exporters_findings(scenario, reference, tmp_path):
    sc, msgs = scenario
    arrivals = []
    for i, (at, exporter, m) in enumerate(in_order(sc, msgs)):
        arrivals.append((at, exporter, m))
        if i % 50 == 0:     # a branch router whose clock is one hour fast
            arrivals.append((at, "10.0.0.99", B.v5([B.v5_record(src="192.168.5.5", dst="192.168.5.6")],
                                                   secs=int(at) + 3600)))
    found, counters = run(sc, tmp_path, arrivals)
    assert found == reference
    assert counters.get("late_records", 0) == 0


def test_an_exporter_clock_running_behind_only_makes_its_own_records_late(scenario, reference, tmp_path):
    sc, msgs = scenario
    arrivals = []
    for i, (at, exporter, m) in enumerate(in_order(sc, msgs)):
        arrivals.append((at, exporter, m))
        if i % 50 == 0:
            arrivals.append((at, "10.0.0.99", B.v5([B.v5_record(src="192.168.5.5", dst="192.168.5.6")],
                                                   secs=int(at) - 86400)))
    found, counters = run(sc, tmp_path, arrivals)
    assert found == reference
    assert 0 < counters["late_records"] <= len(msgs) // 50 + 1


def test_sysuptime_rollover_gives_continuous_event_times_through_the_pipeline(tmp_path):
    wrap = 1 << 32
    t = [(22, 4), (21, 4), (8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4)]
    before = B.v9([B.v9_template_set([(256, t)]),
                   B.data_set(256, [B.encode_record(t, [wrap - 9000, wrap - 6000, "10.1.0.1", "10.2.0.1", 40000, 443, 6, 100, 1])])],
                  uptime=wrap - 5000, secs=1700000000, seq=0)
    after = B.v9([B.data_set(256, [B.encode_record(t, [wrap - 1000, 3000, "10.1.0.1", "10.2.0.2", 40001, 443, 6, 100, 1])])],
                 uptime=5000, secs=1700000010, seq=1)
    pipe = Pipeline(engine_config_plain(tmp_path), ListSink())
    pipe.handle_datagram(before, "10.0.0.1", 1700000000.0)
    pipe.handle_datagram(after, "10.0.0.1", 1700000010.0)
    pipe.close(now=1700000020.0)
    flows = {e["event"]["dest"]: e for e in pipe.sink.events if e["sourcetype"] == "boundaryflow:flow"}
    assert flows["10.2.0.1"]["time"] == pytest.approx(1700000000 - 1.0)
    assert flows["10.2.0.2"]["time"] == pytest.approx(1700000010 - 2.0)
    assert flows["10.2.0.2"]["event"]["duration"] == pytest.approx(4.0)   # started before the wrap
    assert pipe.counters().get("late_records", 0) == 0


def engine_config_plain(tmp_path):
    from boundaryflow import config
    (tmp_path / "lookups").mkdir(exist_ok=True)
    return config.from_mapping({"collector": {"state_dir": str(tmp_path / "state")},
                                "enrichment": {"lookups_dir": str(tmp_path / "lookups")},
                                "reduction": {"mode": "flow"}}, str(tmp_path))
