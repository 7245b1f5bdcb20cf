"""./build.sh bench: every benchmark in one run, peers side by side; tables to stdout and
benchmarks/results.md (the README's tables are copied from there, with this command).

Benchmarks are measurements, not tests: nothing here passes or fails on a number.
"""
from __future__ import annotations

import io
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# (module, title, argv)
BENCHES = [
    ("bench_decode", "Decode + normalize (flows per CPU-second)", []),
    ("bench_enrich", "Enrichment cost per flow", []),
    ("bench_detect", "Detection cost per flow", []),
    ("bench_reduce", "Reduction", []),
    ("bench_stages", "Where a flow's time goes (per stage)", []),
    ("bench_volume", "Splunk license volume per reduction mode", []),
    ("bench_memory", "Detector memory per key", []),
    ("bench_ingest", "Live ingest over loopback vs nfacctd and nfcapd", []),
]


class Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, s):
        for st in self.streams:
            st.write(s)
        return len(s)

    def flush(self):
        for st in self.streams:
            st.flush()


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    only = set(argv)
    buf = io.StringIO()
    out = Tee(sys.stdout, buf)
    print("# Boundary Flow benchmarks\n", file=out)
    print("`./build.sh bench` on %s, %s, Python %s, %d cores, %s\n" % (
        platform.node(), platform.machine(), platform.python_version(), os.cpu_count(),
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())), file=out)
    failed = 0
    for mod_name, title, bargv in BENCHES:
        if only and mod_name not in only and mod_name.replace("bench_", "") not in only:
            continue
        print("\n## %s (`benchmarks/%s.py`)\n" % (title, mod_name), file=out)
        # Each benchmark in a fresh interpreter: what one leaves behind (heap, caches, GC settings)
        # must not move the next one's numbers (in one process, enrichment read ~7% slower after
        # the decode benchmark, and the contract floor up to 3x slower after the reduction one).
        t0 = time.time()
        proc = subprocess.run([sys.executable, os.path.join(HERE, mod_name + ".py")] + bargv,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out.write(proc.stdout)
        if proc.returncode:
            failed += 1
            print("(exit status %d)" % proc.returncode, file=out)
        print("\n(%.0f s)" % (time.time() - t0), file=out)
    if not only:
        with open(os.path.join(HERE, "results.md"), "w") as fh:
            fh.write(buf.getvalue())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
