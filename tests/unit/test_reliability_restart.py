"""Crash between state saves (issue 7): the in-process equivalent of kill -9 after the last periodic save.

The e2e test (tests/e2e/test_reliability_faults.py) kills the collector right after a save and
finds nothing lost or repeated. Here traffic continues after the save and the process then dies:
the findings raised in that unsaved interval must not be raised again after the restart.
"""
import collections

import pytest

from boundaryflow.pipeline import Pipeline
from boundaryflow.scenario.generate import generate
from boundaryflow.scenario.ipfix_export import IpfixEncoder
from boundaryflow.scenario.pcap import export_time
from boundaryflow.scenario.replay import engine_config
from list_sink import ListSink  # noqa: E402,F401  (tests/list_sink.py)


def feed(pipe, msgs, exporter):
    last = None
    for m in msgs:
        at = export_time(m)
        pipe.handle_datagram(m, exporter, at)
        if last is None or at - last >= 60:
            pipe.tick(at)
            last = at
    return last


def keys(events):
    return collections.Counter((e["event"]["signature"], e["event"].get("src"), e["event"].get("dest"))
                               for e in events if e["sourcetype"] == "boundaryflow:finding")


@pytest.fixture(scope="module")
def scenario():
    sc = generate(seed=4, days=2, learning_days=1, scale=0.1)
    return sc, list(IpfixEncoder(sc.plan.exporter["observation_domain"]).encode(sc.records))


def run_with_crash(sc, msgs, work, saved_at, crashed_at):
    cfg = engine_config(sc, str(work), mode="flow")
    exporter = sc.plan.exporter["address"]
    first = Pipeline(cfg, ListSink())
    feed(first, msgs[:saved_at], exporter)
    first.save_state()                      # the last periodic save
    feed(first, msgs[saved_at:crashed_at], exporter)
    first._write()                          # what reached the sink before the crash (ticks write too)
    # kill -9: `first` is never closed; a new process starts on the same state_dir
    second = Pipeline(engine_config(sc, str(work), mode="flow"), ListSink())
    last = feed(second, msgs[crashed_at:], exporter)
    second.close(now=last)
    return keys(first.sink.events), keys(second.sink.events)


def test_crash_right_after_a_save_loses_and_repeats_nothing(scenario, tmp_path):
    sc, msgs = scenario
    before, after = run_with_crash(sc, msgs, tmp_path / "a", 300, 300)
    ref = Pipeline(engine_config(sc, str(tmp_path / "ref"), mode="flow"), ListSink())
    ref.close(now=feed(ref, msgs, sc.plan.exporter["address"]))
    assert before + after == keys(ref.sink.events)


def test_crash_after_an_unsaved_interval_repeats_no_finding(scenario, tmp_path):
    sc, msgs = scenario
    # save, then keep going through attack traffic (after learning) before the crash: the findings
    # of that unsaved stretch are what a restart must not raise again (findings ledger)
    saved_at = next(i for i, m in enumerate(msgs) if export_time(m) > sc.learning_end + 6 * 3600)
    crashed_at = min(len(msgs) - 50, saved_at + 400)
    before, after = run_with_crash(sc, msgs, tmp_path / "b", saved_at, crashed_at)
    assert sum(before.values()) > 0
    repeated = set(before) & set(after)
    assert not repeated, repeated
