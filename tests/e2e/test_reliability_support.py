"""Helpers shared by the test_reliability_* e2e modules (no tests here).

A scenario (boundaryflow.scenario) run by a real ``boundaryflow collect`` process: its INI sections,
its IPFIX datagrams, and the findings an uninterrupted in-process run of the same datagrams raises.
"""
import collections
import json
import os
import socket
import time

from boundaryflow.pipeline import Pipeline
from boundaryflow.scenario.generate import generate
from boundaryflow.scenario.ipfix_export import IpfixEncoder
from boundaryflow.scenario.pcap import export_time
from boundaryflow.scenario.replay import engine_config, engine_mapping
from list_sink import ListSink  # noqa: E402,F401  (tests/list_sink.py)

# scripts/soak.sh sets BF_RELIABILITY_SCALE=10 for the long variants of these tests
SCALE = max(1, int(os.environ.get("BF_RELIABILITY_SCALE", "1")))


def small_scenario(seed=4):
    """Two days (one of learning), ~15k records in ~670 IPFIX datagrams, ~27 findings."""
    return generate(seed=seed, days=2, learning_days=1, scale=0.1)


def datagrams(sc):
    """The scenario's records as the plan's exporter sends them: IPFIX messages in export order."""
    return IpfixEncoder(sc.plan.exporter["observation_domain"]).encode(sc.records)


def scenario_sections(sc, work):
    """(collector keys, extra INI sections) for collector_process.CollectorProcess running this scenario."""
    m = engine_mapping(sc, str(work))
    collector = "".join("%s = %s\n" % (k, v) for k, v in m["collector"].items() if k not in ("state_dir", "listen"))
    extra = ""
    for section in ("enrichment", "detection"):
        extra += "[%s]\n" % section + "".join("%s = %s\n" % kv for kv in m[section].items())
    return collector, extra


def reference_findings(sc, work, cut=None):
    """Finding keys of one uninterrupted run, closed as a live collector stops (windows stay open)."""
    pipe = Pipeline(engine_config(sc, str(work), mode="flow"), ListSink())
    last = None
    for msg in datagrams(sc):
        at = export_time(msg)
        pipe.handle_datagram(msg, sc.plan.exporter["address"], at)
        if last is None or at - last >= 1.0:
            pipe.tick(at)
            last = at
    pipe.close(now=last, final=False)
    return finding_keys(pipe.sink.events)


def finding_keys(events):
    return collections.Counter((e["event"]["signature"], e["event"].get("src"), e["event"].get("dest"))
                               for e in events if e["sourcetype"] == "boundaryflow:finding")


def send_paced(port, msgs, rate=2000.0, src="127.0.0.1"):
    """Send datagrams at about ``rate`` per second (below any collector's capacity)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    t0 = time.monotonic()
    for i, m in enumerate(msgs):
        s.sendto(m, ("127.0.0.1", port))
        ahead = t0 + (i + 1) / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    s.close()


def read_events(path):
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as fh:
        for line in fh:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass      # a line being written right now
    return out


def last_collector_health(events):
    hs = [e["event"] for e in events if e["sourcetype"] == "boundaryflow:health" and e["event"].get("scope") == "collector"]
    return hs[-1] if hs else {}


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def wait_datagrams(col, n, timeout=60):
    """Until the collector's health counts n datagrams (from events.jsonl)."""
    path = os.path.join(col.work, "events.jsonl")
    return wait_for(lambda: last_collector_health(read_events(path)).get("datagrams", 0) >= n, timeout,
                    "%d datagrams in health" % n)
