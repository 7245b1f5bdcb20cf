"""./build.sh bench: every benchmark in one run, peers side by side; tables to stdout and
benchmarks/results.md (the README's tables are copied from there, with this command).

Benchmarks are measurements, not tests: nothing here passes or fails on a number.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import os
import platform
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "package", "bin"))

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
        try:
            mod = importlib.import_module(mod_name)
        except ImportError as e:
            print("not available: %s" % e, file=out)
            continue
        t0 = time.time()
        try:
            with contextlib.redirect_stdout(out):
                mod.main(bargv)
        except Exception:
            failed += 1
            print("```\n%s```" % traceback.format_exc(), file=out)
        print("\n(%.0f s)" % (time.time() - t0), file=out)
    if not only:
        with open(os.path.join(HERE, "results.md"), "w") as fh:
            fh.write(buf.getvalue())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
