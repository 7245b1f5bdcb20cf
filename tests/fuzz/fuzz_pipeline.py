"""atheris coverage-guided fuzzing of Pipeline.handle_datagram: decode -> track -> enrich -> detect ->
reduce with hostile datagrams from many (spoofed) exporters at fuzzed arrival times.

Each input: 1 byte exporter choice, 4 bytes arrival offset, then the datagram. Bounds checked after
every input: exporters tracked <= max_exporters, per-exporter decoder bounds, and every datagram
accounted (allowlist-rejected or seen by an exporter's decoder).
"""
import logging
import sys
import tempfile

import atheris

import fuzz_common as C

with atheris.instrument_imports():
    from boundaryflow import config
    from boundaryflow.pipeline import Pipeline

logging.getLogger("boundaryflow").setLevel(logging.CRITICAL)      # expected warnings, millions of them
MAX_EXPORTERS = 16


class NullSink(object):
    def write(self, envelopes):
        pass

    def flush(self):
        pass

    def close(self):
        pass

    def health(self):
        return {"events_out": 0, "bytes_out": 0}


def make_pipeline(work):
    cfg = config.from_mapping({"collector": {"state_dir": work + "/state", "max_exporters": str(MAX_EXPORTERS),
                                             "max_templates": str(C.MAX_TEMPLATES), "max_pending": str(C.MAX_PENDING),
                                             "exporters": "10.0.0.0/8,2001:db8::/32"},
                               "enrichment": {"lookups_dir": work + "/lookups"},
                               "reduction": {"mode": "conversation"}}, work)
    return Pipeline(cfg, NullSink())


def main():
    work = tempfile.mkdtemp(prefix="bf-fuzz-pipeline-")
    seeds = C.seed_datagrams()
    pipe = make_pipeline(work)
    exporters = ["10.0.0.%d" % i for i in range(1, 40)] + ["2001:db8::%x" % i for i in range(1, 8)] + ["192.0.2.1"]
    for d in seeds:                       # templates known up front, as after a restart
        pipe.handle_datagram(d, exporters[0], 1700000000.0)
    n = [0]

    def one_input(data):
        if len(data) < 5:
            return
        # byte 0 picks the exporter, bytes 1-4 the arrival offset, the rest is the datagram (plain
        # slicing keeps the seeds' datagrams intact for the mutator)
        exporter = exporters[data[0] % len(exporters)]
        arrival = 1700000000.0 + int.from_bytes(data[1:5], "big") % (30 * 86400)
        datagram = data[5:]
        pipe.handle_datagram(datagram, exporter, arrival)
        n[0] += 1
        if n[0] % 256 == 0:
            pipe.tick(arrival)
        assert len(pipe.states) <= MAX_EXPORTERS
        for st in pipe.states.values():
            C.check_bounds(st)
        t = pipe.totals
        assert t["datagrams"] >= t["exporter_rejected"]

    prefix = b"\x00\x00\x00\x00\x00"
    C.write_seed_corpus(sys.argv, [prefix + d for d in seeds])
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
