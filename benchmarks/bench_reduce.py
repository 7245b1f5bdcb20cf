"""Tracking and reduction: cost per flow, events and JSON bytes per 1,000 flows in each mode, memory.

    .venv/bin/python benchmarks/bench_reduce.py [--flows 200000]

Workload (synthetic, deterministic): client -> service connections at an AI-cluster boundary, each
exported as two unidirectional records (request, reply) per active-timeout slice, over 10
one-minute intervals. 5% of connections are AI host <-> external (kept in detail by
consolidated mode). Clients reuse services, as real traffic does (many source ports per
client/service pair). Times are CPU time (time.process_time).
"""
from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "package", "bin"))

from boundaryflow import config  # noqa: E402
from boundaryflow.model import SOURCETYPE_FLOW, Flow, envelope, flow_event  # noqa: E402
from boundaryflow.reduce import Reducer  # noqa: E402
from boundaryflow.sinks import serialize  # noqa: E402
from boundaryflow.track import Tracker  # noqa: E402

SERVICES = [("10.20.0.%d" % i, port) for i in range(1, 21) for port in (443, 2049, 8000)]
T0 = 1_700_000_000.0


def workload(n_flows, clients=100, seed=7):
    """Records as (attributes) tuples; turned into fresh Flow objects per run."""
    rng = random.Random(seed)
    hosts = ["10.%d.%d.%d" % (1 + i % 4, i // 200 % 250, 1 + i % 200) for i in range(clients)]
    out = []
    conn = 0
    while len(out) < n_flows:
        conn += 1
        client = rng.choice(hosts)
        ai_ext = rng.random() < 0.05
        # a few hot services (inference endpoints, storage) take most connections
        service = rng.choice(SERVICES[:6]) if rng.random() < 0.9 else rng.choice(SERVICES)
        server, port = ("203.0.113.%d" % (1 + rng.randrange(30)), 443) if ai_ext else service
        sport = 32768 + conn % 28000
        end = T0 + rng.uniform(0, 600)
        start = end - rng.uniform(0.1, 30)
        up = rng.randrange(200, 1 << 20)
        down = rng.randrange(200, 1 << 22)
        role = "gpu_node" if ai_ext else None
        # request record (client -> server), reply record (server -> client)
        out.append((client, sport, server, port, up, up // 1000 + 1, start, end, 0x1A, role, not ai_ext))
        out.append((server, port, client, sport, down, down // 1400 + 1, start, end, 0x1A, None, True))
    return out[:n_flows]


def make_flows(rows, exporter="192.0.2.1"):
    flows = []
    for src, sp, dst, dp, b, p, start, end, flags, role, dest_internal in rows:
        f = Flow()
        f.src_ip, f.src_port, f.dest_ip, f.dest_port, f.protocol_number = src, sp, dst, dp, 6
        f.bytes_out, f.packets_out, f.start, f.end, f.tcp_flags, f.exporter = b, p, start, end, flags, exporter
        if role:
            f.src_role = role
        f.src_internal, f.dest_internal = True, dest_internal
        flows.append(f)
    return flows


def cpu(fn):
    # the benchmark's own pre-built records are frozen out of the GC: a pipeline holds records only
    # briefly, so collections over them would be this harness's cost, not the stage's
    gc.collect()
    gc.freeze()
    t = time.process_time()
    result = fn()
    secs = time.process_time() - t
    gc.unfreeze()
    return secs, result


def json_bytes(rows):
    return sum(len(serialize.dumpb(envelope(r.end, SOURCETYPE_FLOW, flow_event(r), host="collector-1")))
               + 1 for r in rows)


def bench_track(rows):
    cfg = config.default()
    single = make_flows(rows)
    tracker = Tracker(cfg)
    secs, _ = cpu(lambda: [tracker.process(f) for f in single])
    dup = []
    for a, b in zip(make_flows(rows, "192.0.2.1"), make_flows(rows, "192.0.2.2")):
        dup.extend((a, b))
    tracker2 = Tracker(cfg)
    secs2, kept = cpu(lambda: sum(tracker2.process(f) for f in dup))
    return [("one exporter", len(single), secs, len(single)),
            ("two exporters, every flow twice", len(dup), secs2, kept)], tracker.counters


def bench_reduce(rows):
    table = []
    tracker = Tracker(config.default())
    oriented = make_flows(rows)
    for f in oriented:
        tracker.process(f)
    naive = json_bytes(oriented)
    for mode in ("flow", "conversation", "consolidated"):
        red = Reducer(config.default(reduction_mode=mode, reduction_interval="60s"))

        def run():
            out = []
            for f in oriented:
                out.extend(red.add(f))
            out.extend(red.flush(0, final=True))
            return out

        secs, out = cpu(run)
        size = json_bytes(out)
        table.append((mode, secs / len(oriented) * 1e6, 1000.0 * len(out) / len(oriented),
                      1000.0 * size / len(oriented), naive / max(size, 1), red.counters["reduction_ratio"]))
    return table


def bench_memory(n, clients):
    """Bytes per remembered connection / open row: memory freed when the structure is dropped."""
    flows = make_flows(workload(n, clients))
    big = config.default(collector_max_connections=str(10 * n))
    tracemalloc.start()
    tracker = Tracker(big)
    for f in flows:
        tracker.process(f)
    conns = tracker.counters["connections"]
    red = Reducer(big)
    for f in flows:
        red.add(f)
    keys = red.counters["open_keys"]
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    del tracker
    gc.collect()
    after_tracker = tracemalloc.get_traced_memory()[0]
    del red
    gc.collect()
    after_reducer = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (before - after_tracker) / conns, (after_tracker - after_reducer) / keys


def bench_json(env, n=20000):
    out = []
    for name, fn in (("orjson" if serialize.BACKEND == "orjson" else "json (no orjson)", serialize.dumps),
                     ("stdlib json", serialize.dumps_stdlib)):
        secs, _ = cpu(lambda: [fn(env) for _ in range(n)])
        out.append((name, secs / n * 1e6))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flows", type=int, default=200000)
    ap.add_argument("--clients", type=int, default=100)
    args = ap.parse_args(argv)
    rows = workload(args.flows, args.clients)

    print("Workload: %d records (request + reply per connection), %d clients, 10 one-minute intervals\n"
          % (len(rows), args.clients))
    print("| tracking (orient + duplicate removal) | records | µs per record | records per CPU-second | kept |")
    print("|---|---:|---:|---:|---:|")
    track_rows, counters = bench_track(rows)
    for name, n, secs, kept in track_rows:
        print("| %s | %d | %.2f | %s | %d |" % (name, n, secs / n * 1e6, "{:,.0f}".format(n / secs), kept))
    print("\nOrientation evidence: " + ", ".join("%s %d" % (k[7:], v) for k, v in sorted(counters.items())
                                                 if k.startswith("orient_")))

    print("\n| mode | µs per record (reduce) | events per 1,000 records | JSON bytes per 1,000 records "
          "| fewer bytes than 1 event per record | reduction ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for mode, us, ev, size, factor, ratio in bench_reduce(rows):
        print("| %s | %.2f | %.0f | %s | %.1fx | %.1f |" % (mode, us, ev, "{:,.0f}".format(size), factor, ratio))

    per_conn, per_key = bench_memory(min(args.flows, 200000), args.clients)
    print("\n| memory (tracemalloc) | bytes each | per 1M |")
    print("|---|---:|---:|")
    print("| tracker: connection (orientation + owner entries) | %.0f | %.0f MiB |"
          % (per_conn, per_conn * 1e6 / 2 ** 20))
    print("| reducer: open conversation row | %.0f | %.0f MiB |" % (per_key, per_key * 1e6 / 2 ** 20))

    f = make_flows(rows[:1])[0]
    f.src_country, f.src_city, f.src_asn, f.plane, f.community_id = "DE", "Berlin", 64500, "inference", "1:abc="
    env = envelope(f.end, SOURCETYPE_FLOW, flow_event(f), host="collector-1")
    print("\n| serialization of one flow envelope (%d fields) | µs |" % len(env["event"]))
    print("|---|---:|")
    for name, us in bench_json(env):
        print("| %s | %.2f |" % (name, us))


if __name__ == "__main__":
    main()
