"""Engine-wide behaviour: contract, event time and lateness, restart, persistence, bounds, health."""
import json
import math
import os
import random

from boundaryflow.detect.windows import BucketSums
from boundaryflow.model import Finding

from test_detect_support import (BAD, EXT, GPU, GiB, HOUR, INFER, LAPTOP, LAPTOP2, MIN, MiB, STORAGE, T0,
                                 flow, learn, make_engine, names, reopen, run)


def attack_mix(t):
    """Records that raise one finding of most per-record and windowed signatures."""
    recs = [flow(src=LAPTOP, dest=BAD, threat_match=BAD, threat_source="feed", end=t),
            flow(src=LAPTOP, dest=GPU, dport=22, end=t + 1),
            flow(src=GPU, dest=LAPTOP, proto=17, dport=4791, end=t + 2),
            flow(src=LAPTOP2, dest=INFER, dport=443, end=t + 3)]
    recs += [flow(src=GPU, dest=EXT, sport=41000 + i, end=t + 10 + i * MIN, duration=30, bytes_out=200 * MiB)
             for i in range(6)]
    return recs


def test_contract_types(tmp_path):
    e = make_engine(tmp_path)
    got = run(e, attack_mix(T0))
    assert got and all(isinstance(f, Finding) for f in got)
    assert isinstance(e.advance(T0 + HOUR), list)
    ev = got[0].event()
    json.dumps(ev)                                   # evidence is JSON-serializable
    for f in got:
        assert f.time >= T0 and f.dvc == "10.0.0.1" and f.signature_id.startswith("BF-")
        json.dumps(f.evidence)
    h = e.health()
    for key in ("flows_seen", "late_records", "findings", "state", "evictions", "learning", "allowlists"):
        assert key in h
    assert h["flows_seen"] == 10 and h["findings"]["exfil_burst"] == 1
    assert sorted(names(got)) == sorted(["threat_intel_match", "management_unexpected_source",
                                         "rdma_on_frontend", "inference_unauthorized_source",
                                         "inference_off_hours", "exfil_burst"])


def test_restart_does_not_re_raise_old_findings(tmp_path):
    e = make_engine(tmp_path)
    first = run(e, attack_mix(T0))
    assert len(first) == 6
    e = reopen(e, tmp_path)
    assert e.health()["state_file"]["loaded"] is True
    assert run(e, attack_mix(T0)) == []                # a replay of the same records
    assert run(e, attack_mix(T0 + HOUR)) == []         # the attack goes on the same day
    assert len(run(e, attack_mix(T0 + 25 * HOUR))) == 6


def test_watermark_is_event_time_not_wall_clock(tmp_path):
    e = make_engine(tmp_path)
    old = 1262304000.0                                 # 2010: a replay of an old capture
    got = run(e, [flow(src=GPU, dest=EXT, sport=41000 + i, end=old + i * MIN, bytes_out=300 * MiB)
                  for i in range(4)])
    assert names(got) == ["exfil_burst"]
    assert e.health()["late_records"] == 0 and e.health()["watermark"] == old + 3 * MIN


def test_records_within_max_lateness_still_count(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    run(e, [flow(dest=EXT, sport=41000 + i, end=T0 + 20 * MIN + i, bytes_out=300 * MiB) for i in range(3)])
    got = run(e, [flow(dest=EXT, sport=42000, end=T0 + 12 * MIN, bytes_out=300 * MiB)])  # 8 min late
    assert names(got) == ["exfil_burst"] and e.health()["late_records"] == 0


def test_lateness_is_configurable_and_counted(tmp_path):
    e = make_engine(tmp_path, collector_max_lateness="1m")
    learn(e)
    e.process(flow(src=GPU, dest=STORAGE, dport=2049, end=T0 + 10 * MIN))
    e.process(flow(src=GPU, dest=STORAGE, dport=2049, end=T0 + 8 * MIN))
    assert e.health()["late_records"] == 1


def test_advance_moves_event_time_and_closes_windows(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    e.advance(T0 + HOUR)
    assert e.health()["watermark"] == T0 + HOUR
    e.process(flow(src=GPU, dest=STORAGE, dport=2049, end=T0 + 30 * MIN))
    assert e.health()["late_records"] == 1
    assert e.advance(math.inf) == [] and e.health()["watermark"] == T0 + HOUR


def test_records_from_a_broken_clock_do_not_move_time(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    e.process(flow(src=GPU, dest=STORAGE, end=4102444800.0))   # year 2100
    h = e.health()
    assert h["future_records"] == 1 and h["watermark"] == T0
    e.process(flow(src=GPU, dest=STORAGE, end=0))
    assert e.health()["untimed_records"] == 1


def test_state_file_is_written_atomically_and_is_json(tmp_path):
    e = make_engine(tmp_path)
    run(e, attack_mix(T0))
    e.save()
    state_dir = tmp_path / "state"
    assert sorted(os.listdir(str(state_dir))) == ["detect_state.json"]     # no temp files left
    doc = json.loads((state_dir / "detect_state.json").read_text())
    assert doc["version"] == 1 and doc["learning_start"] == T0
    assert e.health()["state_file"]["saves"] == 1


def test_corrupt_state_starts_fresh_and_keeps_the_file(tmp_path):
    e = make_engine(tmp_path)
    run(e, attack_mix(T0))
    e.save()
    path = tmp_path / "state" / "detect_state.json"
    path.write_text('{"version": 1, "watermark": ')
    e = make_engine(tmp_path)
    h = e.health()
    assert h["state_file"]["loaded"] is False and "starting fresh" in h["state_file"]["error"]
    assert len(list((tmp_path / "state").glob("detect_state.json.corrupt-*"))) == 1
    assert len(run(e, attack_mix(T0))) == 6


def test_state_is_bounded_and_evictions_are_counted(tmp_path):
    e = make_engine(tmp_path, limits={"pairs": 5, "connections": 5, "dedup": 5})
    learn(e)
    for i in range(50):
        e.process(flow(src=GPU, dest="198.51.100.%d" % (i + 1), sport=40000 + i, end=T0 + i, bytes_out=1000))
        e.process(flow(src="10.9.1.%d" % i, dest=GPU, dport=22, end=T0 + i))
    h = e.health()
    assert h["state"]["exfil_pairs"] == 5 and h["evictions"]["exfil_pairs"] == 45
    assert h["state"]["long_lived_connections"] == 5 and h["evictions"]["long_lived_connections"] == 45
    assert h["evictions"]["policy_dedup"] == 45


def test_expired_state_is_swept(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    run(e, [flow(src=GPU, dest=EXT, sport=41000 + i, end=T0 + i, bytes_out=1000) for i in range(20)])
    assert e.health()["state"]["long_lived_connections"] == 20
    e.advance(T0 + 3 * 86400)
    h = e.health()
    assert h["state"]["long_lived_connections"] == 0 and h["state"]["exfil_pairs"] == 0


def test_unoriented_records_are_counted(tmp_path):
    e = make_engine(tmp_path)
    e.process(flow(src=GPU, dest=STORAGE, end=T0, oriented=False))
    assert e.health()["unoriented_records"] == 1


def test_max_window_matches_brute_force():
    rng = random.Random(7)
    for _ in range(300):
        sums, dense = BucketSums(), {}
        for _ in range(rng.randint(1, 40)):
            b, a = rng.randint(0, 200), rng.randint(1, 100)
            sums.add(b, a)
            dense[b] = dense.get(b, 0) + a
        width = rng.randint(1, 60)
        lo = rng.randint(0, 200)
        hi = rng.randint(lo, min(200, lo + 10))
        sums.add(lo, 5)                              # the new data the caller just added
        dense[lo] = dense.get(lo, 0) + 5
        expect = max([sum(dense.get(i, 0) for i in range(k - width + 1, k + 1))
                      for k in range(lo, hi + width)] + [0])
        assert sums.max_window(width, lo, hi)[0] == expect
        assert sums.total == sum(dense.values())


def test_spread_keeps_every_byte():
    s = BucketSums()
    start, end = 1000.0, 1000.0 + 3 * HOUR + 17
    assert s.spread(start, end, 10 ** 9 + 7, 86400) == (16, 196)
    assert s.total == 10 ** 9 + 7 == sum(s.amt) and len(s) == 181
    assert max(s.amt) - min(s.amt[1:-1]) <= 1          # even spread in the full minutes
    s.prune(s.idx[0] + 100)
    assert s.total == sum(s.amt) and len(s) == 81


def test_health_is_json_before_and_after_traffic(tmp_path):
    e = make_engine(tmp_path)
    json.dumps(e.health())
    assert e.health()["learning"]["status"] == "not_started"
    run(e, attack_mix(T0))
    h = json.loads(json.dumps(e.health()))
    assert h["learning"]["status"] == "learning" and h["learning"]["end"] == T0 + HOUR
    assert h["allowlists"]["boundaryflow_egress_allowlist.csv"]["loaded"] is True


def test_state_of_the_wrong_shape_starts_fresh(tmp_path):
    os.makedirs(str(tmp_path / "state"))
    (tmp_path / "state" / "detect_state.json").write_text('{"version": 1, "exfil": [1, 2]}')
    e = make_engine(tmp_path)
    assert e.health()["state_file"]["loaded"] is False and "unreadable" in e.health()["state_file"]["error"]
    assert len(run(e, attack_mix(T0))) == 6


def test_pending_low_and_slow_survives_restart(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    got = run(e, [flow(dest=EXT, sport=41000 + i, end=T0 + 60 + i * MIN, bytes_out=100 * MiB) for i in range(3)])
    assert got == [] and e.health()["state"]["exfil_pending"] == 1
    e = reopen(e, tmp_path)
    slow = [f for f in e.advance(T0 + 3 * HOUR) if f.signature == "exfil_low_and_slow"]
    assert len(slow) == 1 and slow[0].time == T0 + 60 + 2 * MIN


def test_state_round_trip_without_the_optional_orjson(tmp_path, monkeypatch):
    from boundaryflow import state_files
    monkeypatch.setattr(state_files, "_orjson", None)
    e = make_engine(tmp_path)
    assert len(run(e, attack_mix(T0))) == 6
    e = reopen(e, tmp_path)
    assert e.health()["state_file"]["loaded"] is True
    assert run(e, attack_mix(T0 + HOUR)) == []
