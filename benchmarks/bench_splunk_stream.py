"""Modular-input output cost: splunklib's EventWriter vs the engine's SplunkStreamSink.

Both write the same envelopes (engine flow events from a golden capture, ~30 fields each) as the
XML stream splunkd reads from a modular input's stdout, to /dev/null. splunklib comes from the
built add-on's lib/ (output/TA_boundaryflow/lib, `./build.sh package`) or BOUNDARYFLOW_SPLUNKLIB.

    .venv/bin/python benchmarks/bench_splunk_stream.py [--events 20000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import glob
import io
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "package", "bin"))

from boundaryflow.sinks import serialize                     # noqa: E402
from boundaryflow.sinks.splunk_stream import SplunkStreamSink  # noqa: E402


def engine_envelopes(n):
    """Engine events from the first golden capture (repeated up to n), as the pipeline emits them."""
    from boundaryflow import config
    from boundaryflow.pipeline import replay
    import tempfile
    captures = [p for p in sorted(glob.glob(os.path.join(ROOT, "tests", "golden", "captures", "*.pcap")))
                if os.path.getsize(p) > 24]
    if not captures:
        sys.exit("no golden captures (./build.sh captures)")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "events.jsonl")
        cfg = config.from_mapping({"collector": {"state_dir": tmp}, "reduction": {"mode": "flow"},
                                   "output": {"sink": "jsonl", "path": path}}, tmp)
        from boundaryflow.sinks import make_sink
        sink = make_sink(cfg)
        replay(captures[0], cfg, sink)
        sink.close()
        with open(path) as fh:
            envs = [json.loads(line) for line in fh]
    flows = [e for e in envs if e["sourcetype"] == "boundaryflow:flow"]
    return (flows * (n // len(flows) + 1))[:n]


def run_eventwriter(envs, out, smi):
    ew = smi.EventWriter(output=out)
    for env in envs:
        ew.write_event(smi.Event(data=serialize.dumps(env["event"]), time="%.3f" % env["time"], host=env["host"],
                                 source=env["source"], sourcetype=env["sourcetype"], stanza="boundaryflow_collector://b"))
    ew.close()


def run_sink(envs, out, batch=512):
    sink = SplunkStreamSink(out, stanza="boundaryflow_collector://b")
    for i in range(0, len(envs), batch):
        sink.write(envs[i:i + batch])
    sink.close()


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        with open(os.devnull, "w") as out:
            t0 = time.perf_counter()
            fn(out)
            times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    lib = os.environ.get("BOUNDARYFLOW_SPLUNKLIB") or os.path.join(ROOT, "output", "TA_boundaryflow", "lib")
    sys.path.append(lib)
    try:
        from splunklib import modularinput as smi
    except ImportError:
        sys.exit("splunklib not found in %s (./build.sh package)" % lib)
    envs = engine_envelopes(args.events)
    # same document? compare parsed events once
    a, b = io.StringIO(), io.StringIO()
    run_eventwriter(envs[:50], a, smi)
    run_sink(envs[:50], b)
    import xml.etree.ElementTree as ET
    pa = [(e.findtext("time"), e.findtext("sourcetype"), json.loads(e.findtext("data"))) for e in ET.fromstring(a.getvalue())]
    pb = [(e.findtext("time"), e.findtext("sourcetype"), json.loads(e.findtext("data"))) for e in ET.fromstring(b.getvalue())]
    assert pa == pb, "the two writers disagree"
    t_ew = best(lambda out: run_eventwriter(envs, out, smi), args.repeat)
    t_sink = best(lambda out: run_sink(envs, out), args.repeat)
    n = len(envs)
    print("json backend: %s; %d flow events, best of %d" % (serialize.BACKEND, n, args.repeat))
    print("%-34s %8.2f us/event %10.0f events/s" % ("splunklib EventWriter (per event)", t_ew / n * 1e6, n / t_ew))
    print("%-34s %8.2f us/event %10.0f events/s" % ("SplunkStreamSink (batches of 512)", t_sink / n * 1e6, n / t_sink))
    print("speedup: %.1fx" % (t_ew / t_sink))


if __name__ == "__main__":
    main()
