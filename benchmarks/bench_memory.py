"""Memory of detector state per key, and the bound its caps put on it.

Feeds the detection engine outbound connections from AI hosts to distinct external destinations
(each opens an exfiltration window pair, a long-lived connection chain, a first-seen destination
and a de-duplication key) and measures the Python heap it holds (tracemalloc, after a collection).
Tracker and reducer memory per connection/row: benchmarks/bench_reduce.py.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "package", "bin"))

from boundaryflow import config  # noqa: E402
from boundaryflow.detect import DetectionEngine  # noqa: E402
from boundaryflow.detect.engine import DEFAULT_LIMITS  # noqa: E402
from boundaryflow.model import Flow  # noqa: E402

T0 = 1_767_000_000.0


def outbound(i, t):
    f = Flow()
    f.src_ip = "10.40.%d.%d" % (i // 250 % 250, i % 250 + 1)
    f.dest_ip = "198.%d.%d.%d" % (18 + i // 62500 % 2, i // 250 % 250, i % 250 + 1)
    f.src_port, f.dest_port, f.protocol_number = 40000 + i % 20000, 443, 6
    f.bytes_out, f.packets_out, f.bytes_in, f.packets_in = 50000, 40, 4000, 30
    f.start, f.end, f.exporter, f.tcp_flags = t - 5, t, "192.0.2.1", 0x18
    f.src_role, f.dest_role, f.src_internal, f.dest_internal = "gpu_node", None, True, False
    f.oriented = True
    return f


def measure(n):
    work = tempfile.mkdtemp(prefix="bf-mem-")
    cfg = config.default(base_dir=work, collector_state_dir=os.path.join(work, "state"),
                         enrichment_lookups_dir=os.path.join(work, "lookups"), detection_learning_period="1d")
    gc.collect()
    tracemalloc.start()
    engine = DetectionEngine(cfg, cfg.collector.state_dir)
    gc.collect()
    base = tracemalloc.get_traced_memory()[0]
    t = T0 + 2 * 86400            # after learning: first contacts are findings, dedup keys fill too
    engine.process(outbound(0, T0))
    for i in range(n):
        engine.process(outbound(i, t + i * 0.001))
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return used, engine.health()


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=50000, help="distinct outbound (AI host, destination) pairs")
    args = ap.parse_args(argv)
    used, health = measure(args.keys)
    per_key = used / args.keys
    print("detector state for %d distinct outbound pairs (each: exfil windows, long-lived chain, first-seen "
          "destination, de-duplication keys)\n" % args.keys)
    print("| measure | value |")
    print("|---|---|")
    print("| heap per outbound pair | {:,.0f} bytes |".format(per_key))
    print("| per 1M pairs (extrapolated) | {:,.0f} MiB |".format(per_key * 1e6 / 2 ** 20))
    cap = DEFAULT_LIMITS["pairs"]
    print("| bound: `pairs` cap {:,} (older pairs evicted, counted in health) | {:,.0f} MiB |".format(
        cap, per_key * cap / 2 ** 20))
    evictions = health.get("evictions", {})
    print("| evictions so far (health `evictions`, per table) | %d |" % sum(evictions.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
