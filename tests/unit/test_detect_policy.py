"""threat_intel_match, management_unexpected_source, rdma_on_frontend (DESIGN.md §4)."""
from test_detect_support import (BAD, DAY, GPU, GPU2, HOUR, LAPTOP, LAPTOP2, MGMT, STORAGE, T0, flow, learn,
                                 make_engine, of, run)


def ti(src, dest, **kw):
    return flow(src=src, dest=dest, threat_match=BAD, threat_source="abuse_ch_feodo",
                threat_category="botnet_c2", **kw)


def test_threat_intel_both_directions_deduplicated_per_day(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    got = run(e, [ti(GPU, BAD, end=T0 + 10), ti(GPU, BAD, end=T0 + 20, sport=40001),
                  ti(BAD, LAPTOP, sport=6000, dport=22, end=T0 + 30),
                  ti(GPU, BAD, end=T0 + DAY + 30, sport=40002)])
    t = of(got, "threat_intel_match")
    assert [(f.src, f.dest, f.time) for f in t] == [(GPU, BAD, T0 + 10), (BAD, LAPTOP, T0 + 30),
                                                     (GPU, BAD, T0 + DAY + 30)]
    assert [f.risk_object for f in t[:2]] == [GPU, LAPTOP]    # our side, not the indicator
    assert t[0].evidence["threat_source"] == "abuse_ch_feodo" and t[0].evidence["matched_side"] == "dest"
    assert t[0].severity == "high" and t[0].category == "threat_intel"


def test_threat_intel_on_a_late_record_still_fires(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    e.process(flow(src=GPU, dest=STORAGE, dport=2049, end=T0 + 5 * HOUR))
    got = run(e, [ti(LAPTOP, BAD, end=T0 + 60)])
    assert len(of(got, "threat_intel_match")) == 1 and e.health()["late_records"] == 1


def test_no_threat_match_no_finding(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    assert run(e, [flow(src=LAPTOP, dest=BAD, end=T0 + 10)]) == []


def test_management_port_from_outside_the_allowlist(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    got = run(e, [flow(src=LAPTOP, dest=GPU, dport=22, end=T0 + 10),
                  flow(src=LAPTOP, dest=GPU, dport=22, sport=40001, end=T0 + 20),
                  flow(src=LAPTOP, dest=GPU2, dport=10250, end=T0 + 30)])
    m = of(got, "management_unexpected_source")
    assert [(f.src, f.dest, f.dest_port) for f in m] == [(LAPTOP, GPU, 22), (LAPTOP, GPU2, 10250)]
    assert m[0].evidence["allowlist"] == {"file": "boundaryflow_management_allowlist.csv", "matched": False}


def test_management_near_misses(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    got = run(e, [flow(src=MGMT, dest=GPU, dport=22, end=T0 + 10),        # allowlisted bastion
                  flow(src=LAPTOP, dest=GPU, dport=8080, end=T0 + 11),    # not a management port
                  flow(src=LAPTOP, dest=LAPTOP2, dport=22, end=T0 + 12),  # not an AI host
                  flow(src=GPU, dest=LAPTOP, sport=22, dport=51000, end=T0 + 13)])  # GPU initiates
    assert got == []


def test_management_ports_are_configurable(tmp_path):
    e = make_engine(tmp_path, detection_management_ports="2222")
    learn(e)
    got = run(e, [flow(src=LAPTOP, dest=GPU, dport=22, end=T0 + 10),
                  flow(src=LAPTOP, dest=GPU, dport=2222, end=T0 + 11)])
    assert [f.dest_port for f in of(got, "management_unexpected_source")] == [2222]


def test_rdma_between_ai_and_non_ai_hosts(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    got = run(e, [flow(src=GPU, dest=LAPTOP, proto=17, sport=49152, dport=4791, end=T0 + 10),
                  flow(src=GPU, dest=LAPTOP, proto=17, sport=49153, dport=4791, end=T0 + 11),
                  flow(src=LAPTOP2, dest=GPU2, proto=17, sport=49152, dport=4791, end=T0 + 12)])
    r = of(got, "rdma_on_frontend")
    assert [(f.src, f.dest) for f in r] == [(GPU, LAPTOP), (LAPTOP2, GPU2)]
    assert r[0].evidence["src_role"] == "gpu_node" and r[0].evidence["dest_role"] == "workstation"


def test_rdma_near_misses(tmp_path):
    e = make_engine(tmp_path)
    learn(e)
    got = run(e, [flow(src=GPU, dest=GPU2, proto=17, dport=4791, end=T0 + 10),        # AI <-> AI
                  flow(src=LAPTOP, dest=LAPTOP2, proto=17, dport=4791, end=T0 + 11),  # neither AI
                  flow(src=GPU, dest=LAPTOP, proto=6, dport=4791, end=T0 + 12)])      # TCP
    assert got == []
