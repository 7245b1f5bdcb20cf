"""Detection quality on the synthetic AI cluster: the engine replays scenarios (real IPFIX through
the full pipeline) and is scored against their ground truth - precision and recall per signature
>= 0.95 over several seeds, and not a single finding on an attack-free multi-day run."""
import json
import socket
import threading
import time

import pytest

from boundaryflow.scenario.generate import generate
from boundaryflow.scenario.ipfix_export import IpfixExporter
from boundaryflow.scenario.replay import engine_config, maxmind_test_dbs, replay_scenario
from boundaryflow.scenario.score import combine, score, table

try:
    from boundaryflow.pipeline import Collector, Pipeline  # noqa: F401
    from boundaryflow.detect import DetectionEngine  # noqa: F401
    from boundaryflow.sinks import make_sink
    MISSING = None
except ImportError as e:       # the engine is written in parallel; say what is missing
    MISSING = "engine not complete yet: %s" % e

pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
SEEDS = (1, 2, 3)
SCALE = 0.5        # benign rates; attacks are unscaled
TARGET = 0.95


def findings_of(path):
    out = []
    with open(path) as fh:
        for line in fh:
            env = json.loads(line)
            if env["sourcetype"] == "boundaryflow:finding":
                out.append(env)
    return out


def run(sc, work, sampling=1, second_exporter=False):
    cfg = engine_config(sc, str(work))
    sink = make_sink(cfg)
    try:
        pipe = replay_scenario(sc, cfg, sink, sampling=sampling, second_exporter=second_exporter)
    finally:
        sink.close()
    return pipe, findings_of(cfg.output.path)


@pytest.fixture(scope="module")
def seed_runs(tmp_path_factory):
    if not maxmind_test_dbs()[0]:
        pytest.skip("MaxMind test databases absent (scripts/fetch_test_data.sh): inference_new_geo needs them")
    runs = []
    for seed in SEEDS:
        sc = generate(seed=seed, days=2, learning_days=1, scale=SCALE)
        pipe, found = run(sc, tmp_path_factory.mktemp("seed%d" % seed))
        runs.append((sc, pipe, found))
    return runs


def test_every_record_reaches_the_detectors(seed_runs):
    for sc, pipe, _found in seed_runs:
        c = pipe.counters()
        assert c["flows_in"] == len(sc.records)
        assert c.get("decode_errors", 0) == 0 and c.get("late_records", 0) == 0


def test_precision_and_recall_per_signature(seed_runs):
    per_run = [score(found, sc.truth) for sc, _pipe, found in seed_runs]
    pooled = combine(per_run)
    report = table(pooled)
    print("\n" + report)
    assert len(pooled) == 11, report
    bad = {sig: e for sig, e in pooled.items() if e["precision"] < TARGET or e["recall"] < TARGET}
    details = "\n".join("%s: false=%s missed=%s" % (s, e["false"][:3], e["missed"][:3]) for s, e in bad.items())
    assert not bad, report + "\n" + details


def test_findings_carry_evidence_an_analyst_can_verify(seed_runs):
    for _sc, _pipe, found in seed_runs:
        for env in found:
            ev = env["event"]
            assert ev["evidence"] and ev["severity"] and ev["signature_id"], ev
            if ev["signature"] in ("exfil_burst", "exfil_low_and_slow"):
                assert ev["evidence"]["bytes_out"] >= ev["evidence"]["threshold_bytes"]


def test_attack_free_days_raise_nothing(tmp_path):
    sc = generate(seed=9, days=3, learning_days=1, attacks=False, scale=SCALE)
    assert sc.near_misses
    pipe, found = run(sc, tmp_path)
    assert pipe.counters()["flows_in"] == len(sc.records)
    assert found == [], [(e["event"]["signature"], e["event"]["src"], e["event"]["dest"]) for e in found]


def test_sampled_export_counts_with_scaled_counters(tmp_path):
    """A 1-in-100 packet-sampling router: byte-threshold detectors still find every exfiltration
    (the decoder scales counters by the announced rate) and raise nothing else about volume."""
    sc = generate(seed=6, days=2, learning_days=1, scale=0.3)
    _pipe, found = run(sc, tmp_path, sampling=100)
    s = score(found, sc.truth)
    for sig in ("exfil_burst", "exfil_low_and_slow"):
        assert s[sig]["recall"] >= TARGET and s[sig]["precision"] >= TARGET, table(s)


def test_a_second_exporter_reporting_the_same_flows_changes_no_finding(tmp_path):
    """A core switch also exports every internet-facing flow: duplicates are removed before the
    detectors, so no byte is counted twice (an upload seen twice must not become an exfiltration)."""
    sc = generate(seed=2, days=2, learning_days=1, scale=0.3)
    one, found_one = run(sc, tmp_path / "one")
    two, found_two = run(sc, tmp_path / "two", second_exporter=True)

    def key(env):
        return env["event"]["signature"], env["event"]["src"], env["event"]["dest"]

    def kept(pipe):
        return pipe.counters()["flows_in"] - pipe.counters().get("duplicates", 0)
    assert two.counters()["duplicates"] > 1000
    assert kept(two) == kept(one)
    assert sorted(map(key, found_two)) == sorted(map(key, found_one))


def test_detection_over_real_udp(tmp_path):
    """The same scenario through a live Collector: IPFIX datagrams over loopback UDP."""
    sc = generate(seed=4, days=2, learning_days=1, scale=0.3)
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    cfg = engine_config(sc, str(tmp_path), listen="127.0.0.1:%d" % port)
    sink = make_sink(cfg)
    collector = Collector(cfg, sink)
    collector.bind()
    stop = threading.Event()
    thread = threading.Thread(target=collector.run, args=(stop,), daemon=True)
    thread.start()
    try:
        with IpfixExporter(("127.0.0.1", port), rate=4000) as exp:
            sent = exp.send(sc.records)
        deadline = time.time() + 90
        while collector.pipeline.totals["datagrams"] < sent and time.time() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(60)
        sink.close()
    assert collector.pipeline.totals["datagrams"] == sent
    assert collector.pipeline.counters()["flows_in"] == len(sc.records)
    s = score(findings_of(cfg.output.path), sc.truth)
    tp = sum(e["tp"] for e in s.values())
    fp = sum(e["fp"] for e in s.values())
    assert tp >= TARGET * len(sc.truth) and fp <= (1 - TARGET) * (tp + fp), table(s)


def test_exfil_to_an_unlisted_registered_port_with_the_reply_exported_first(tmp_path):
    """GPU node 40000 -> external 9001 uploads 1.5 GiB; the router lists the reply record first."""
    import random

    from boundaryflow.scenario.model import Host
    from boundaryflow.scenario.records import conn_records, tcp
    sc = generate(seed=1, days=2, learning_days=1, attacks=False, scale=0.1)
    gpu, ext = sc.plan.hosts("gpu")[0], Host("198.51.100.150", "exfil")
    start = sc.end - 3 * 3600
    conn = tcp(gpu, 40000, ext, 9001, start, 1200, int(1.5 * (1 << 30)), 4 << 20)
    extra = conn_records(conn, random.Random(1), reply_first=1.0)
    sc.records = sorted(sc.records + extra, key=lambda r: r.end)
    _pipe, found = run(sc, tmp_path)
    keys = {(e["event"]["signature"], e["event"]["src"], e["event"]["dest"]) for e in found}
    assert ("exfil_burst", gpu.ip, ext.ip) in keys
