"""long_lived_outbound: one connection chained over active-timeout records (DESIGN.md §4)."""
from test_detect_support import BACKUP, EXT, GPU, HOUR, MIN, T0, flow, learn, make_engine, of, reopen, run


def pieces(n, start=T0 + 60, length=30 * MIN, gap=1.0, src=GPU, dest=EXT, sport=43000, dport=22):
    """n consecutive records of one 5-tuple as an exporter with a 30 min active timeout writes them."""
    out, t = [], start
    for _ in range(n):
        out.append(flow(src=src, dest=dest, sport=sport, dport=dport, start=t, end=t + length,
                        bytes_out=5000, bytes_in=5000))
        t += length + gap
    return out


def test_fires_once_when_the_chain_reaches_four_hours(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    recs = pieces(10, gap=0.0)
    got = of(run(e, recs), "long_lived_outbound")
    assert len(got) == 1
    f = got[0]
    assert f.time == recs[7].end                       # 8 x 30 min = 4 h
    assert (f.src, f.dest, f.dest_port) == (GPU, EXT, 22)
    assert f.evidence["duration"] == 4 * HOUR and f.evidence["records"] == 8
    assert f.evidence["connection_start"] == recs[0].start
    assert f.evidence["allowlist"]["matched"] is False


def test_just_under_four_hours_is_quiet(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    recs = pieces(8, gap=0.0)
    recs[-1].end -= 2.0
    assert of(run(e, recs), "long_lived_outbound") == []


def test_small_gaps_within_inactive_timeout_and_slack_keep_the_chain(tmp_path):
    e = make_engine(tmp_path)                          # inactive_timeout 15 s, slack 5 s
    learn(e)
    assert len(of(run(e, pieces(9, gap=18.0)), "long_lived_outbound")) == 1


def test_a_gap_longer_than_the_inactive_timeout_splits_connections(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    assert of(run(e, pieces(9, gap=30.0)), "long_lived_outbound") == []


def test_inactive_timeout_is_configurable(tmp_path):
    e = make_engine(tmp_path, collector_inactive_timeout="60s")
    learn(e)
    assert len(of(run(e, pieces(9, gap=30.0)), "long_lived_outbound")) == 1


def test_inbound_long_connection_is_not_outbound(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    assert run(e, pieces(10, src=EXT, dest=GPU, sport=50000, dport=8022)) == []


def test_allowlisted_destination_is_quiet(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    assert run(e, pieces(10, dest=BACKUP)) == []


def test_restart_mid_connection_neither_loses_nor_repeats(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    recs = pieces(12, gap=0.0)
    assert run(e, recs[:6]) == []                      # 3 h, then the collector restarts
    e = reopen(e, tmp_path)
    got = of(run(e, recs[6:9]), "long_lived_outbound")
    assert len(got) == 1 and got[0].time == recs[7].end
    e = reopen(e, tmp_path)                            # and again: the connection goes on
    assert run(e, recs[9:]) == []


def test_late_records_are_ignored(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    recs = pieces(10, gap=0.0)
    e.process(flow(src=GPU, dest=STORAGE_LIKE, end=recs[-1].end + HOUR))
    assert of(run(e, recs), "long_lived_outbound") == []


STORAGE_LIKE = "10.2.0.10"
