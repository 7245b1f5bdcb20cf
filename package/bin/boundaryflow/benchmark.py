"""``boundaryflow bench``: where a flow's time goes, CPU per stage on the demo scenario's IPFIX export.

Each stage runs over the whole stream in turn (decode every datagram, then track every record, ...)
with the same objects the pipeline would pass, so the per-stage cost adds up to the end-to-end cost
without a profiler's overhead. The stage with the largest share is the next optimization.
Side-by-side comparisons with other collectors live in the repository's benchmarks/ (./build.sh bench).
"""
from __future__ import annotations

import argparse
import gc
import struct
import sys
import tempfile
import time

from .decode import ExporterState, decode
from .detect import DetectionEngine
from .enrich import Enricher
from .gc_tuning import tune_gc
from .model import SOURCETYPE_FLOW, envelope, flow_event
from .reduce import Reducer
from .scenario import generate as gen
from .scenario.pcap import export_time
from .scenario.replay import engine_config, exports
from .sinks.serialize import dumpb
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
        size += len(dumpb(envelope(r.end, SOURCETYPE_FLOW, flow_event(r), "boundaryflow", "bench")))
    cost["event + JSON serialize"] = clock() - t
    return len(flows), len(rows), cost, flows


_FLOOR_RECORD = struct.Struct("!IIHHBBQQIIQQ")     # an IPv4 IPFIX record as softflowd exports it


def contract_floor(flows, rounds=5):
    """µs per record for the operations no Python implementation of this output contract can avoid,
    with every piece of logic left out: unpack a record into a dict-backed Flow (as the generated
    decoder does), one connection-table probe and store, two address-cache probes merged into the
    record, a copy of the finished event (the real one, so the same size) and its orjson
    serialization. Orientation, Community ID, detection, reduction and counters cost nothing here,
    and copying a finished event is cheaper than building one, so this is a LOWER bound: a
    pipeline stage-by-stage sum can approach it but never beat it. The fastest of ``rounds``
    (the bound most favourable to Python on a noisy machine)."""
    from .model import Flow
    new = object.__new__
    ints, names, cache, events = {}, {}, {}, []
    buf = bytearray()
    for f in flows:
        for ip in (f.src_ip, f.dest_ip):
            if ip not in ints:
                ints[ip] = len(ints)
                names[ints[ip]] = ip
        buf += _FLOOR_RECORD.pack(ints[f.src_ip], ints[f.dest_ip], f.src_port or 0, f.dest_port or 0,
                                  f.protocol_number & 0xFF, f.tcp_flags & 0xFF, f.bytes_out, f.packets_out,
                                  f.input_if or 0, f.output_if or 0, int(f.start * 1000), int(f.end * 1000))
        d = f.__dict__
        cache.setdefault(f.src_ip, ({k: v for k, v in d.items() if k.startswith("src_")}, {}))
        cache.setdefault(f.dest_ip, ({}, {k: v for k, v in d.items() if k.startswith("dest_")}))
        events.append(flow_event(f))
    data = bytes(buf)

    def once():
        conns, out = {}, []
        append = out.append
        for (f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11), ev in zip(_FLOOR_RECORD.iter_unpack(data), events):
            src, dest = names[f0], names[f1]
            d = {"export_protocol": "ipfix", "observation_domain": 0, "src_ip": src, "dest_ip": dest,
                 "src_port": f2, "dest_port": f3, "protocol_number": f4, "input_if": f8, "output_if": f9,
                 "bytes_out": f6, "packets_out": f7, "tcp_flags": f5, "start": f10 * 0.001, "end": f11 * 0.001}
            fl = new(Flow)
            fl.__dict__ = d
            key = (src, f2, dest, f3, f4)
            if conns.get(key) is None:
                conns[key] = fl
            d.update(cache[src][0])
            d.update(cache[dest][1])
            append(dumpb({"time": d["end"], "host": "bench", "source": "boundaryflow",
                          "sourcetype": SOURCETYPE_FLOW, "event": ev.copy()}))
        return out

    # No garbage collection while timing: a lower bound must not depend on how much else the
    # process holds (in ./build.sh bench earlier benchmarks' heaps made collections 3x dearer).
    enabled = gc.isenabled()
    gc.disable()
    try:
        times = []
        for _ in range(rounds):
            t = time.process_time()
            once()
            times.append(time.process_time() - t)
    finally:
        if enabled:
            gc.enable()
    return min(times) / max(1, len(flows)) * 1e6


def run_benchmark(argv=None):
    ap = argparse.ArgumentParser(prog="boundaryflow bench", description="CPU per pipeline stage on the demo scenario")
    ap.add_argument("--mode", default="flow", choices=("flow", "conversation", "consolidated"))
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args(argv)
    tune_gc()              # as the collector runs
    n, rows, cost, flows = run(args.mode, scale=args.scale)
    total = sum(cost.values())
    print("demo scenario (seed 1, 3 days), %d records, %d events, reduction mode %s\n" % (n, rows, args.mode))
    print("| stage | CPU s | µs per record | share |")
    print("|---|---|---|---|")
    for name, s in cost.items():
        print("| %s | %.3f | %.2f | %.0f%% |" % (name, s, s / n * 1e6, 100 * s / total))
    print("| **total** | %.3f | %.2f | 100%% |" % (total, total / n * 1e6))
    print("\nend to end (no socket): {:,.0f} records per CPU-second".format(n / total))
    floor = contract_floor(flows)
    print("CPython floor of the output contract (no logic at all, see contract_floor): %.2f µs per record "
          "= {:,.0f} records per CPU-second; the pipeline above costs %.1fx that".format(1e6 / floor)
          % (floor, total / n * 1e6 / floor))
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark())
