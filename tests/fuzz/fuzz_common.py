"""Shared set-up of the atheris harnesses (one per decoder, plus Pipeline.handle_datagram).

    python tests/fuzz/fuzz_ipfix.py [libFuzzer flags] [CORPUS_DIR ...]

Every harness seeds its corpus (when the first corpus directory is empty) with the datagrams of
that protocol from tests/golden/captures and the spec-built datagrams of tests/unit/decode_builders.
A harness fails (libFuzzer writes a crash-* file and exits non-zero) when anything but DecodeError
escapes, or when a per-exporter bound (templates, held data, sFlow counters) is exceeded. Memory is
bounded by libFuzzer's -rss_limit_mb (scripts/soak.sh passes it).
"""
import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "unit"))
sys.path.insert(0, os.path.join(ROOT, "package", "bin"))

import atheris  # noqa: E402

with atheris.instrument_imports():
    from boundaryflow.decode import DecodeError, ExporterState, decode, detect_protocol  # noqa: E402,F401

MAX_TEMPLATES, MAX_PENDING = 64, 32
VERSION_PREFIX = {"netflow5": b"\x00\x05", "netflow9": b"\x00\x09", "ipfix": b"\x00\x0a", "sflow5": b"\x00\x00\x00\x05"}


def seed_datagrams(protocol=None):
    """Real export datagrams (golden captures) and spec-built ones, optionally of one protocol."""
    from boundaryflow import pcap
    import decode_builders as B
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "golden", "captures", "*.pcap*"))):
        for _t, _exporter, _port, payload in pcap.read_udp(path):
            out.append(bytes(payload))
    v9_t = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (1, 4), (2, 4), (22, 4), (21, 4)]
    rec = B.encode_record(v9_t, ["10.0.0.1", "10.0.0.2", 1, 2, 6, 2, 100, 1, 5, 9])
    ip_t = [(0, 27, 16), (0, 28, 16), (0, 4, 1), (0, 96, B.VARIABLE), (29305, 1, 8), (0, 153, 8)]
    ip_r = B.encode_record(ip_t, ["2001:db8::1", "2001:db8::2", 6, b"app", 5, 1])
    out += [
        B.v5([B.v5_record(), B.v5_record(proto=1)]),
        B.v9([B.v9_template_set([(256, v9_t)]), B.data_set(256, [rec, rec])], source_id=1),
        B.v9([B.v9_options_template_set(257, [(1, 4)], [(34, 4), (82, 8)])], source_id=1),
        B.ipfix([B.ipfix_template_set([(256, ip_t)]), B.data_set(256, [ip_r])], domain=1),
        B.ipfix([B.ipfix_options_template_set(257, [(0, 10, 4)], [(0, 82, B.VARIABLE), (0, 160, 8)])], domain=1),
        B.sflow([B.sflow_flow_sample([B.sflow_raw_header_record(B.ethernet_ipv4_tcp(vlan=5), 300),
                                      B.sflow_switch_record(5)]),
                 B.sflow_flow_sample([B.sflow_raw_header_record(B.ethernet_ipv6_udp(), 90)], expanded=True),
                 B.sflow_counter_sample()]),
    ]
    if protocol:
        out = [d for d in out if detect_protocol(d) == protocol]
    return out


def fresh_state(seeds):
    """An exporter state that has seen every template of the seeds (so data sets decode)."""
    st = ExporterState(max_templates=MAX_TEMPLATES, max_pending=MAX_PENDING, template_ttl=1e12)
    for d in seeds:
        try:
            decode(d, st, 1.0)
        except DecodeError:
            pass
    return st


def check_bounds(st):
    assert len(st.templates) <= MAX_TEMPLATES, len(st.templates)
    assert st.pending_count() <= MAX_PENDING, st.pending_count()
    assert len(st.sflow_counters) <= 4096


def write_seed_corpus(argv, seeds):
    """Fill the first corpus directory given on the command line, if it is empty."""
    dirs = [a for a in argv[1:] if not a.startswith("-")]
    if dirs:
        os.makedirs(dirs[0], exist_ok=True)
        if not os.listdir(dirs[0]):
            for i, d in enumerate(seeds):
                with open(os.path.join(dirs[0], "seed-%04d" % i), "wb") as fh:
                    fh.write(d)


def decoder_main(protocol):
    """libFuzzer entry point for one decoder: inputs are forced to carry its version field."""
    seeds = seed_datagrams(protocol)
    prefix = VERSION_PREFIX[protocol]
    holder = {"state": fresh_state(seeds), "n": 0}

    def one_input(data):
        holder["n"] += 1
        if holder["n"] % 5000 == 0:          # keep the learned templates from drifting away for good
            holder["state"] = fresh_state(seeds)
        st = holder["state"]
        datagram = prefix + data[len(prefix):] if len(data) >= len(prefix) else prefix + data
        try:
            flows = decode(datagram, st, 1700000000.0)
        except DecodeError:
            flows = []
        for f in flows:
            assert isinstance(f.end, float) and isinstance(f.bytes_out, int)
        check_bounds(st)

    write_seed_corpus(sys.argv, seeds)
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
