"""exfil_burst and exfil_low_and_slow (DESIGN.md §4)."""
import math

from test_detect_support import (BACKUP, DAY, EXT, EXT2, GPU, GiB, HOUR, LAPTOP, MIN, MiB, T0, flow,
                                 learn, make_engine, of, run)


def uploads(n, each, start, every=3 * MIN, src=GPU, dest=EXT, duration=30.0, **kw):
    """n records of ``each`` outbound bytes, one every ``every`` seconds, ending at start + i*every."""
    return [flow(src=src, dest=dest, sport=41000 + i, end=start + i * every, duration=duration,
                 bytes_out=each, bytes_in=10000, **kw) for i in range(n)]


def test_burst_fires_at_the_record_that_completes_it(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    recs = uploads(11, 100 * MiB, T0 + 60)
    got = run(e, recs)
    bursts = of(got, "exfil_burst")
    assert len(bursts) == 1
    b = bursts[0]
    assert b.time == recs[10].end                         # 11 x 100 MiB first reaches 1 GiB
    assert (b.src, b.dest, b.dest_port, b.dvc) == (GPU, EXT, 443, "10.0.0.1")
    assert b.severity == "high" and b.signature_id == "BF-1001" and b.risk_object == GPU
    ev = b.evidence
    assert ev["bytes_out"] == 1100 * MiB and ev["threshold_bytes"] == GiB
    assert ev["window_end"] - ev["window_start"] == HOUR
    assert ev["window_start"] <= recs[0].start and ev["window_end"] >= recs[10].end
    assert ev["allowlist"] == {"file": "boundaryflow_egress_allowlist.csv", "matched": False}
    # the burst is not also reported as low-and-slow once every window has closed
    assert of(e.advance(math.inf), "exfil_low_and_slow") == []


def test_just_below_burst_is_low_and_slow_only_after_the_burst_window_closes(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    recs = uploads(10, 100 * MiB, T0 + 60)                # 1000 MiB < 1 GiB within the hour
    got = run(e, recs)
    assert of(got, "exfil_burst") == [] and of(got, "exfil_low_and_slow") == []
    # the candidate waits for the burst window after it (plus max_lateness) to close
    assert e.advance(recs[2].end + HOUR) == []
    slow = of(e.advance(recs[2].end + HOUR + 10 * MIN), "exfil_low_and_slow")
    assert len(slow) == 1
    assert slow[0].time == recs[2].end                    # 300 MiB crossed 256 MiB at the third record
    assert slow[0].evidence["bytes_out"] >= 256 * MiB
    assert slow[0].evidence["window_end"] - slow[0].evidence["window_start"] == DAY


def test_slow_transfer_over_hours(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    recs = uploads(12, 25 * MiB, T0 + 60, every=HOUR)     # 300 MiB over 11 hours
    got = run(e, recs) + e.advance(math.inf)
    assert len(of(got, "exfil_low_and_slow")) == 1
    assert of(got, "exfil_burst") == []


def test_below_slow_threshold_is_quiet(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    recs = uploads(10, 25 * MiB, T0 + 60, every=2 * HOUR)  # 250 MiB over 18 h
    assert of(run(e, recs) + e.advance(math.inf), "exfil_low_and_slow") == []


def test_slow_window_slides(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    # 200 MiB, then 100 MiB 25 h later: no 24 h window holds 256 MiB
    recs = uploads(1, 200 * MiB, T0 + 60) + uploads(1, 100 * MiB, T0 + 60 + 25 * HOUR)
    assert of(run(e, recs) + e.advance(math.inf), "exfil_low_and_slow") == []


def test_burst_window_slides_across_the_hour(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    base = math.floor(T0 / HOUR) * HOUR + 2 * HOUR
    recs = uploads(1, 600 * MiB, base - 10 * MIN) + uploads(1, 600 * MiB, base + 10 * MIN)
    assert len(of(run(e, recs), "exfil_burst")) == 1


def test_burst_needs_one_hour_not_seventy_minutes(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    recs = uploads(1, 600 * MiB, T0 + HOUR) + uploads(1, 600 * MiB, T0 + HOUR + 70 * MIN)
    got = run(e, recs) + e.advance(math.inf)
    assert of(got, "exfil_burst") == []
    assert len(of(got, "exfil_low_and_slow")) == 1


def test_long_record_is_spread_over_its_duration(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    # 1.2 GiB in one record lasting 3 h: 0.4 GiB per hour is not a burst
    rec = flow(end=T0 + 4 * HOUR, duration=3 * HOUR, bytes_out=int(1.2 * GiB))
    got = run(e, [rec]) + e.advance(math.inf)
    assert of(got, "exfil_burst") == []
    assert len(of(got, "exfil_low_and_slow")) == 1


def test_sampled_records_count_with_their_scaled_bytes(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    # 1-in-1000 sampling: the decoder already scaled 150 KiB of samples to 150 MiB per record
    recs = uploads(8, 150 * MiB, T0 + 60, sampling_rate=1000)
    bursts = of(run(e, recs), "exfil_burst")
    assert len(bursts) == 1 and bursts[0].time == recs[6].end   # 7 x 150 MiB = 1050 MiB
    assert bursts[0].evidence["sampling_rate"] == 1000


def test_allowlisted_backup_destination_is_quiet(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    recs = uploads(30, 100 * MiB, T0 + 60, dest=BACKUP)
    assert run(e, recs) + e.advance(math.inf) == []


def test_large_upload_by_a_non_ai_host_is_quiet(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    recs = uploads(30, 100 * MiB, T0 + 60, src=LAPTOP)
    assert run(e, recs) + e.advance(math.inf) == []


def test_replies_of_an_inbound_connection_are_not_outbound(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    # EXT downloads 3 GiB from the GPU node's service: the GPU's bytes are replies (bytes_in)
    recs = [flow(src=EXT, dest=GPU, sport=52000, dport=443, end=T0 + 60 + i * MIN, duration=30,
                 bytes_out=10000, bytes_in=100 * MiB) for i in range(30)]
    assert run(e, recs) + e.advance(math.inf) == []


def test_internal_destination_is_not_exfiltration(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    recs = uploads(30, 100 * MiB, T0 + 60, dest=LAPTOP)
    assert of(run(e, recs) + e.advance(math.inf), "exfil_burst") == []


def test_one_burst_per_pair_per_day(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    got = run(e, uploads(12, 100 * MiB, T0 + 60))
    got += run(e, uploads(12, 100 * MiB, T0 + 3 * HOUR))
    got += run(e, uploads(12, 100 * MiB, T0 + 5 * HOUR, dest=EXT2))
    assert [(f.dest, f.signature) for f in of(got, "exfil_burst")] == [(EXT, "exfil_burst"), (EXT2, "exfil_burst")]
    got = run(e, uploads(12, 100 * MiB, T0 + 25 * HOUR))
    assert len(of(got, "exfil_burst")) == 1


def test_configurable_thresholds(tmp_path):
    e = make_engine(tmp_path, detection_exfil_burst_bytes="100MiB", detection_exfil_burst_window="10m",
                    detection_exfil_slow_bytes="50MiB")
    learn(e)
    got = run(e, uploads(3, 40 * MiB, T0 + 60, every=2 * MIN))
    assert len(of(got, "exfil_burst")) == 1


def test_late_records_do_not_reopen_windows(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    run(e, uploads(9, 100 * MiB, T0 + 60))               # 900 MiB
    e.process(flow(src=GPU, dest=EXT2, end=T0 + 2 * HOUR))   # watermark moves 2 h on
    late = uploads(3, 100 * MiB, T0 + 60 + 28 * MIN)          # would complete the hour
    assert of(run(e, late), "exfil_burst") == []
    assert e.health()["late_records"] == 3
