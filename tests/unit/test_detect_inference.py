"""Inference signatures: unauthorized source, off-hours (time zones, DST), new geo, volume spike."""
from datetime import datetime, timezone

from test_detect_support import (GPU, HOUR, INFER, LAPTOP, LAPTOP2, MIN, STORAGE, flow, learn, make_engine,
                                 of, reopen, run)


def at(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=timezone.utc).timestamp()


MON = at(2023, 11, 13, 8)          # Monday 08:00 UTC; learning (1 h) starts here
AFTER = MON + 2 * HOUR             # Monday 10:00 UTC, learning over, in operational hours


def access(src=LAPTOP, end=AFTER, sport=50000, dport=443, country=None, **kw):
    return flow(src=src, dest=INFER, sport=sport, dport=dport, end=end, duration=0.5, bytes_out=2000,
                bytes_in=8000, src_country=country, **kw)


# -- unauthorized source -------------------------------------------------------------------------
def test_unauthorized_source_once_per_source_per_day(tmp_path):
    e = make_engine(tmp_path)
    learn(e, MON)
    got = run(e, [access(src=LAPTOP2, end=MON + 60), access(src=LAPTOP2, end=MON + 120, sport=50001),
                  access(src=LAPTOP2, end=MON + 25 * HOUR)])
    u = of(got, "inference_unauthorized_source")
    assert [f.time for f in u] == [MON + 60, MON + 25 * HOUR]
    assert u[0].src == LAPTOP2 and u[0].dest == INFER and u[0].risk_object == LAPTOP2
    assert u[0].evidence["allowlist"] == {"file": "boundaryflow_inference_allowlist.csv", "matched": False}


def test_allowlisted_source_and_other_ports_are_quiet(tmp_path):
    e = make_engine(tmp_path)
    learn(e, MON)
    got = run(e, [access(src=LAPTOP, end=MON + 60), access(src=LAPTOP2, end=MON + 61, dport=9999),
                  flow(src=LAPTOP2, dest=STORAGE, dport=443, end=MON + 62)])
    assert got == []


def test_allowlist_reloads_when_the_file_changes(tmp_path):
    from test_detect_support import write_lookup
    e = make_engine(tmp_path)
    learn(e, MON)
    assert len(run(e, [access(src=LAPTOP2, end=MON + 60)])) == 1
    write_lookup(str(tmp_path / "lookups"), "boundaryflow_inference_allowlist.csv", [LAPTOP, "10.9.0.0/24"])
    e.advance(MON + 61)
    assert run(e, [access(src="10.9.0.77", end=MON + 62)]) == []
    assert e.health()["allowlists"]["boundaryflow_inference_allowlist.csv"]["entries"] == 2


# -- operational hours ---------------------------------------------------------------------------
def test_off_hours_once_per_source_endpoint_and_day(tmp_path):
    e = make_engine(tmp_path)
    learn(e, MON)
    night = at(2023, 11, 13, 22)
    got = run(e, [access(end=at(2023, 11, 13, 18, 59) + 20),      # started 18:59:19: inside
                  access(end=night), access(end=night + 60, sport=50001),
                  access(end=at(2023, 11, 14, 3), sport=50002),    # next day (UTC): new finding
                  access(end=at(2023, 11, 18, 12), sport=50003)])  # Saturday noon
    oh = of(got, "inference_off_hours")
    assert [f.time for f in oh] == [night, at(2023, 11, 14, 3), at(2023, 11, 18, 12)]
    ev = oh[0].evidence
    assert ev["timezone"] == "UTC" and ev["operational_hours"] == "Mon-Fri 07:00-19:00"
    assert ev["local_date"] == "2023-11-13"


def test_operational_hours_follow_dst(tmp_path):
    e = make_engine(tmp_path, detection_timezone="America/New_York")
    learn(e, at(2024, 3, 1, 15))
    # 11:30 UTC is 06:30 EST before the switch (off hours) and 07:30 EDT after it (inside)
    before = access(end=at(2024, 3, 8, 11, 30), src=LAPTOP)       # Friday, EST
    after = access(end=at(2024, 3, 11, 11, 30), sport=50001)      # Monday, EDT
    # 23:30 UTC is 18:30 EST (inside) in early March and 19:30 EDT (off) after the switch
    evening_before = access(end=at(2024, 3, 8, 23, 30), sport=50002)
    evening_after = access(end=at(2024, 3, 11, 23, 30), sport=50003)
    got = run(e, [before, evening_before, after, evening_after])
    assert [f.time for f in of(got, "inference_off_hours")] == [before.end, evening_after.end]
    assert of(got, "inference_off_hours")[0].evidence["local_time"].startswith("2024-03-08T06:29:59")


def test_hours_wrapping_midnight(tmp_path):
    e = make_engine(tmp_path, detection_operational_hours="Mon-Sun 22:00-06:00")
    learn(e, at(2023, 11, 13, 1))
    got = run(e, [access(end=at(2023, 11, 13, 3)), access(end=at(2023, 11, 13, 23), sport=2),
                  access(end=at(2023, 11, 13, 12), sport=3)])
    assert [f.time for f in of(got, "inference_off_hours")] == [at(2023, 11, 13, 12)]


# -- new geo -------------------------------------------------------------------------------------
def test_new_country_for_an_endpoint(tmp_path):
    e = make_engine(tmp_path)
    learn(e, MON)
    run(e, [access(end=MON + 60, country="US"), access(end=MON + 120, sport=2, country="DE")])
    got = run(e, [access(end=AFTER, country="US"), access(end=AFTER + 1, sport=3, country="KP"),
                  access(end=AFTER + 2, sport=4, country="KP"), access(end=AFTER + 3, sport=5)])
    geo = of(got, "inference_new_geo")
    assert [(f.dest, f.evidence["country"]) for f in geo] == [(INFER, "KP")]
    assert geo[0].evidence["learned_countries"] == ["DE", "US"]
    e = reopen(e, tmp_path)
    assert of(run(e, [access(end=AFTER + 600, sport=6, country="KP")]), "inference_new_geo") == []


def test_no_geo_findings_during_learning(tmp_path):
    e = make_engine(tmp_path)
    learn(e, MON)
    assert of(run(e, [access(end=MON + 60 + i, sport=i, country=c) for i, c in enumerate(["US", "FR", "KP"])]),
              "inference_new_geo") == []


# -- volume spike --------------------------------------------------------------------------------
def busy(e, start, per_bucket, buckets, src=LAPTOP):
    """per_bucket distinct connections (source ports) in each of ``buckets`` 5-minute buckets."""
    out = []
    for b in range(buckets):
        for i in range(per_bucket):
            out.extend(e.process(access(src=src, end=start + b * 300 + 10 + i, sport=20000 + b * 100 + i)))
    return out


ALIGNED = at(2023, 11, 13, 9)      # bucket-aligned Monday 09:00 UTC


def test_volume_spike_against_a_flat_baseline(tmp_path):
    e = make_engine(tmp_path)
    learn(e, ALIGNED)
    busy(e, ALIGNED, 10, 12)                        # 12 learning buckets of 10: mean 10, std 0
    t = ALIGNED + 2 * HOUR
    assert busy(e, t, 30, 1) == []                  # threshold max(10, 3 x 10, floor 30) = 30
    got = busy(e, t + 300, 31, 1)
    spikes = of(got, "inference_volume_spike")
    assert len(spikes) == 1 and spikes[0].risk_object == INFER
    ev = spikes[0].evidence
    assert ev["connections"] == 31 and ev["threshold"] == 30 and ev["baseline_mean"] == 10
    assert ev["baseline_buckets"] == 12
    assert busy(e, t + 600, 40, 1) == []           # one per endpoint per hour
    assert len(of(busy(e, t + 3900, 40, 1), "inference_volume_spike")) == 1


def test_volume_baseline_includes_empty_buckets(tmp_path):
    e = make_engine(tmp_path, detection_volume_spike_sigma="2")
    learn(e, ALIGNED)
    # traffic in 6 of 12 learning buckets: mean 10, std 10 -> threshold max(10 + 2 x 10, 30, 30) = 30;
    # excluding the empty buckets would give mean 20, std 0 -> threshold 60
    for b in range(0, 12, 2):
        busy(e, ALIGNED + b * 300, 20, 1)
    t = ALIGNED + 2 * HOUR
    assert len(of(busy(e, t, 31, 1), "inference_volume_spike")) == 1


def test_records_of_one_connection_count_once(tmp_path):
    e = make_engine(tmp_path)
    learn(e, ALIGNED)
    t = ALIGNED + 2 * HOUR
    got = run(e, [access(end=t + i, sport=30000 + i % 20) for i in range(100)])   # 20 connections
    assert of(got, "inference_volume_spike") == []


def test_new_endpoint_after_learning_uses_the_floor(tmp_path):
    e = make_engine(tmp_path, detection_volume_spike_floor="5")
    learn(e, ALIGNED)
    t = ALIGNED + 2 * HOUR
    assert len(of(busy(e, t, 6, 1), "inference_volume_spike")) == 1


def test_baseline_survives_restart(tmp_path):
    e = make_engine(tmp_path)
    learn(e, ALIGNED)
    busy(e, ALIGNED, 20, 12)                        # mean 20 -> threshold 60
    e.advance(ALIGNED + 2 * HOUR)
    e = reopen(e, tmp_path)
    t = ALIGNED + 2 * HOUR + 300
    assert of(busy(e, t, 60, 1), "inference_volume_spike") == []
    assert len(of(busy(e, t + 300, 61, 1), "inference_volume_spike")) == 1


def test_operational_hours_follow_dst_fall_back(tmp_path):
    e = make_engine(tmp_path, detection_timezone="America/New_York")
    learn(e, at(2024, 10, 28, 15))
    friday = access(end=at(2024, 11, 1, 11, 30))                  # 07:30 EDT: inside
    monday = access(end=at(2024, 11, 4, 11, 30), sport=50001)     # 06:30 EST: off hours
    monday_ok = access(end=at(2024, 11, 4, 12, 30), sport=50002)  # 07:30 EST: inside
    got = run(e, [friday, monday, monday_ok])
    off = of(got, "inference_off_hours")
    assert [f.time for f in off] == [monday.end]
    assert off[0].evidence["local_date"] == "2024-11-04" and off[0].evidence["timezone"] == "America/New_York"


def test_several_operational_hours_items(tmp_path):
    e = make_engine(tmp_path, detection_operational_hours="Mon-Fri 07:00-19:00; Sat 09:00-12:00")
    learn(e, at(2023, 11, 13, 8))
    sat_in, sat_out = access(end=at(2023, 11, 18, 10)), access(end=at(2023, 11, 18, 13), sport=2)
    got = run(e, [sat_in, sat_out])
    assert [f.time for f in of(got, "inference_off_hours")] == [sat_out.end]
    assert of(got, "inference_off_hours")[0].evidence["operational_hours"] == "Mon-Fri 07:00-19:00; Sat 09:00-12:00"
