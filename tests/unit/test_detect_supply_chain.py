"""supply_chain_new_destination (DESIGN.md §4): per AI host, learned during the learning period."""
from test_detect_support import (BACKUP, EXT, EXT2, GPU, GPU2, HOUR, LAPTOP, T0, flow, learn, make_engine,
                                 of, reopen, run)

AFTER = T0 + 2 * HOUR       # learning is 1 h in these tests


def test_new_destination_after_learning(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    assert run(e, [flow(dest=EXT, end=T0 + 600)]) == []          # learned
    got = run(e, [flow(dest=EXT, end=AFTER), flow(dest=EXT2, end=AFTER + 1), flow(dest=EXT2, end=AFTER + 2)])
    sc = of(got, "supply_chain_new_destination")
    assert [(f.src, f.dest) for f in sc] == [(GPU, EXT2)]
    assert sc[0].time == AFTER + 1
    ev = sc[0].evidence
    assert ev["learning_start"] == T0 and ev["learning_end"] == T0 + HOUR
    assert ev["learned_destinations_of_src"] == 1
    assert ev["allowlist"] == {"file": "boundaryflow_egress_allowlist.csv", "matched": False}


def test_nothing_fires_during_learning(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    assert of(run(e, [flow(dest=EXT2, end=T0 + 60 * i) for i in range(1, 50)]), "supply_chain_new_destination") == []


def test_first_contact_with_an_allowlisted_repo_is_quiet(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    assert run(e, [flow(dest=BACKUP, end=AFTER)]) == []


def test_host_first_seen_after_learning_has_no_learned_destinations(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    run(e, [flow(src=GPU, dest=EXT, end=T0 + 60)])
    sc = of(run(e, [flow(src=GPU2, dest=EXT, end=AFTER)]), "supply_chain_new_destination")
    assert [(f.src, f.dest) for f in sc] == [(GPU2, EXT)]
    assert sc[0].evidence["learned_destinations_of_src"] == 0


def test_non_ai_host_and_inbound_connections_are_quiet(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    got = run(e, [flow(src=LAPTOP, dest=EXT2, end=AFTER),
                  flow(src=EXT2, dest=GPU, sport=51000, dport=443, end=AFTER + 1)])
    assert got == []


def test_learning_starts_once_and_survives_restart(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    run(e, [flow(dest=EXT, end=T0 + 600)])
    e = reopen(e, tmp_path)
    assert e.health()["learning"]["start"] == T0
    got = run(e, [flow(dest=EXT, end=AFTER), flow(dest=EXT2, end=AFTER + 5)])
    assert [(f.signature, f.dest) for f in got] == [("supply_chain_new_destination", EXT2)]
    e = reopen(e, tmp_path)
    assert run(e, [flow(dest=EXT2, end=AFTER + 60)]) == []       # no re-raise after restart
    assert e.health()["learning"]["status"] == "complete"


def test_late_learning_records_do_not_teach(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    e.process(flow(src=GPU, dest="10.2.0.10", end=AFTER))         # learning window closed
    e.process(flow(dest=EXT2, end=T0 + 600))                       # late record from learning
    assert len(of(run(e, [flow(dest=EXT2, end=AFTER + 10)]), "supply_chain_new_destination")) == 1


def test_saturated_host_is_skipped_not_flooded(tmp_path):
    e = make_engine(tmp_path, limits={"dests_per_host": 3})
    learn(e)
    run(e, [flow(dest="198.51.100.%d" % i, end=T0 + i) for i in range(1, 6)])
    assert run(e, [flow(dest="198.51.100.200", end=AFTER)]) == []
    h = e.health()
    assert h["state"]["saturated_hosts"] == 1 and h["evictions"]["saturated_skips"] == 1
