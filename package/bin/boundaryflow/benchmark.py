"""``boundaryflow bench``: where a flow's time goes, CPU per stage on the demo scenario's IPFIX export.

Each stage runs over the whole stream in turn (decode every datagram, then track every record, ...)
with the same objects the pipeline would pass, so the per-stage cost adds up to the end-to-end cost
without a profiler's overhead. The stage with the largest share is the next optimization.
Side-by-side comparisons with other collectors live in the repository's benchmarks/ (./build.sh bench).
"""
from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time

from .decode import ExporterState, decode
from .detect import DetectionEngine
from .enrich import Enricher
from .model import SOURCETYPE_FLOW, envelope, flow_event
from .reduce import Reducer
from .scenario import generate as gen
from .scenario.pcap import export_time
from .scenario.replay import engine_config, exports
from .sinks.serialize import dumps
from .track import Tracker


def run(mode, seed=1, days=3, scale=1.0):
    sc = gen.generate(seed=seed, days=days, learning_days=2, scale=scale)
    work = tempfile.mkdtemp(prefix="bf-stages-")
    cfg = engine_config(sc, work, mode=mode)
    msgs = [(m, export_time(m)) for _e, m in exports(sc)]
    clock = time.process_time
    cost = {}

    t = clock()
    state = ExporterState()
    flows = []
    for m, at in msgs:
        flows.extend(decode(m, state, at))
    cost["decode + normalize"] = clock() - t
    exporter = sc.plan.exporter["address"]
    for f in flows:
        f.exporter = exporter

    tracker = Tracker(cfg)
    t = clock()
    flows = [f for f in flows if tracker.process(f)]
    cost["track (dedup, orient)"] = clock() - t

    enricher = Enricher(cfg)
    t = clock()
    for f in flows:
        enricher.enrich(f)
    cost["enrich"] = clock() - t

    detector = DetectionEngine(cfg, cfg.collector.state_dir)
    t = clock()
    used = [bool(detector.process(f)) for f in flows]
    detector.advance(flows[-1].end if flows else 0)
    cost["detect"] = clock() - t

    reducer = Reducer(cfg)
    t = clock()
    rows = []
    for f, u in zip(flows, used):
        rows.extend(reducer.add(f, keep_detail=u))
    rows.extend(reducer.flush(flows[-1].end if flows else 0, final=True))
    cost["reduce (%s)" % mode] = clock() - t

    t = clock()
    size = 0
    for r in rows:
        size += len(dumps(envelope(r.end, SOURCETYPE_FLOW, flow_event(r), "boundaryflow", "bench")))
    cost["event + JSON serialize"] = clock() - t
    return len(flows), len(rows), cost


def run_benchmark(argv=None):
    ap = argparse.ArgumentParser(prog="boundaryflow bench", description="CPU per pipeline stage on the demo scenario")
    ap.add_argument("--mode", default="flow", choices=("flow", "conversation", "consolidated"))
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args(argv)
    gc.collect()
    gc.freeze()            # as the CLI does (cli._tune_gc)
    gc.set_threshold(50000, 20, 50)
    n, rows, cost = run(args.mode, scale=args.scale)
    total = sum(cost.values())
    print("demo scenario (seed 1, 3 days), %d records, %d events, reduction mode %s\n" % (n, rows, args.mode))
    print("| stage | CPU s | µs per record | share |")
    print("|---|---|---|---|")
    for name, s in cost.items():
        print("| %s | %.3f | %.2f | %.0f%% |" % (name, s, s / n * 1e6, 100 * s / total))
    print("| **total** | %.3f | %.2f | 100%% |" % (total, total / n * 1e6))
    print("\nend to end (no socket): {:,.0f} records per CPU-second".format(n / total))
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark())
