"""Scoring findings against ground truth: keys per de-duplication rule, time spans, duplicates."""
from boundaryflow.scenario.score import combine, score

T = [
    {"signature": "exfil_burst", "src": "10.40.0.11", "dest": "203.0.113.5", "time_first": 1000.0, "time_last": 2000.0},
    {"signature": "inference_volume_spike", "src": "", "dest": "10.42.0.10", "time_first": 5000.0, "time_last": 5200.0},
    {"signature": "inference_unauthorized_source", "src": "10.30.4.20", "dest": "10.42.0.11",
     "time_first": 7000.0, "time_last": 7100.0},
]


def finding(sig, src, dest, time):
    return {"time": time, "event": {"signature": sig, "src": src, "dest": dest}}


def test_a_perfect_run_scores_one():
    found = [finding("exfil_burst", "10.40.0.11", "203.0.113.5", 1900.0),
             finding("inference_volume_spike", "10.20.1.30", "10.42.0.10", 5100.0),   # any client
             finding("inference_unauthorized_source", "10.30.4.20", "10.42.0.12", 7050.0)]  # any endpoint
    s = score(found, T)
    assert all(e["precision"] == 1.0 and e["recall"] == 1.0 for e in s.values())


def test_duplicates_wrong_keys_and_wrong_times_count_against():
    found = [finding("exfil_burst", "10.40.0.11", "203.0.113.5", 1500.0),
             finding("exfil_burst", "10.40.0.11", "203.0.113.5", 1600.0),          # duplicate
             finding("inference_volume_spike", "x", "10.42.0.11", 5100.0),         # other endpoint
             finding("inference_unauthorized_source", "10.30.4.20", "10.42.0.11", 9000.0 + 3600)]  # too late
    s = score(found, T, slack=3600)
    assert (s["exfil_burst"]["tp"], s["exfil_burst"]["fp"]) == (1, 1)
    assert s["exfil_burst"]["precision"] == 0.5 and s["exfil_burst"]["recall"] == 1.0
    assert (s["inference_volume_spike"]["fp"], s["inference_volume_spike"]["fn"]) == (1, 1)
    assert s["inference_unauthorized_source"]["recall"] == 0.0
    pooled = combine([s, score([], T)])
    assert pooled["exfil_burst"]["fn"] == 1 and pooled["exfil_burst"]["recall"] == 0.5


def test_a_finding_of_an_unexpected_signature_is_a_false_positive():
    s = score([finding("rdma_on_frontend", "a", "b", 1.0)], T)
    assert s["rdma_on_frontend"]["fp"] == 1 and s["rdma_on_frontend"]["precision"] == 0.0
