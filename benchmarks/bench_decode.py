"""Decode + normalize throughput: flows per CPU-second (time.process_time) for NetFlow v5, v9 and
IPFIX datagrams built here, side by side with the PyPI ``netflow`` package on the same bytes.

    .venv/bin/python benchmarks/bench_decode.py [--seconds 1.0] [--trials 7]

Ours = bytes -> model.Flow objects (addresses as text, times as epoch floats, counters scaled).
Each row's rate is the median of ``--trials`` trials; the trials of all rows are interleaved
(row 1, row 2, ..., row 1, row 2, ...) so that a slow spell of a noisy machine does not land on
one row only.
``netflow`` = bytes -> its parsed packet with per-flow dicts (no normalization), so the ratio
flatters the baseline. Datagrams: 30 records (v5), 24 records per v9/IPFIX datagram with fixed-
length templates of 12 fields (IPv4) - the usual ~1400-byte exports.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "package", "bin"))

from boundaryflow.decode import ExporterState, decode  # noqa: E402

# (type, length): src, dst, sport, dport, proto, tcp flags, bytes, packets, in, out, start, end
V9_FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (1, 4), (2, 4), (10, 2), (14, 2),
             (22, 4), (21, 4)]
IPFIX_FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (1, 8), (2, 8), (10, 4),
                (14, 4), (152, 8), (153, 8)]
RECORDS_PER_DATAGRAM = 24
DATAGRAMS = 64     # distinct datagrams cycled through (varied addresses)


def _addr(i, j):
    return socket.inet_aton("10.%d.%d.%d" % (i % 250, j % 250, (i * 7 + j) % 250 + 1))


def _fixed_records(fields, i):
    out = []
    for j in range(RECORDS_PER_DATAGRAM):
        values = [_addr(i, j), _addr(j, i), 30000 + j, 443, 6, 0x1B, 1500 * (j + 1), j + 1, 1, 2,
                  1000 + j, 5000 + j]
        if fields is IPFIX_FIELDS:
            values[-2:] = [1700000000000 + j, 1700000004000 + j]
        rec = b""
        for (_t, n), v in zip(fields, values):
            rec += v if isinstance(v, bytes) else v.to_bytes(n, "big")
        out.append(rec)
    return b"".join(out)


def _set(set_id, body):
    return struct.pack("!HH", set_id, 4 + len(body)) + body


def build_v5():
    out = []
    for i in range(DATAGRAMS):
        header = struct.pack("!HHIIIIBBH", 5, 30, 100000, 1700000000, 0, i * 30, 0, 0, 0)
        recs = b"".join(struct.pack("!4s4s4sHHIIIIHHxBBBHHBBxx", _addr(i, j), _addr(j, i), b"\0" * 4,
                                    1, 2, j + 1, 1500 * (j + 1), 1000, 5000, 30000 + j, 443, 0x1B,
                                    6, 0, 0, 0, 24, 24) for j in range(30))
        out.append(header + recs)
    return out, 30


def _template(tid, fields):
    return struct.pack("!HH", tid, len(fields)) + b"".join(struct.pack("!HH", t, n) for t, n in fields)


def build_v9():
    template = _set(0, _template(256, V9_FIELDS))
    out = [struct.pack("!HHIIII", 9, 1, 100000, 1700000000, 0, 1) + template]
    for i in range(DATAGRAMS):
        header = struct.pack("!HHIIII", 9, RECORDS_PER_DATAGRAM, 100000, 1700000000, i + 1, 1)
        out.append(header + _set(256, _fixed_records(V9_FIELDS, i)))
    return out, RECORDS_PER_DATAGRAM


def build_ipfix():
    template = _set(2, _template(256, IPFIX_FIELDS))
    first = template
    out = [struct.pack("!HHIII", 10, 16 + len(first), 1700000005, 0, 1) + first]
    for i in range(DATAGRAMS):
        body = _set(256, _fixed_records(IPFIX_FIELDS, i))
        out.append(struct.pack("!HHIII", 10, 16 + len(body), 1700000005, i * RECORDS_PER_DATAGRAM, 1)
                   + body)
    return out, RECORDS_PER_DATAGRAM


def measure(run_once, flows_per_round, seconds):
    """flows per CPU-second of run_once() repeated for about ``seconds`` of CPU time."""
    rounds, start = 0, time.process_time()
    while True:
        run_once()
        rounds += 1
        used = time.process_time() - start
        if used >= seconds:
            return rounds * flows_per_round / used


def measure_interleaved(jobs, seconds, trials):
    """{name: median flows/CPU-s} for jobs [(name, run_once, flows per round)]: ``trials``
    rounds over all jobs in turn, each job measured for seconds / trials per round."""
    for _name, run_once, _flows in jobs:
        run_once()                            # warm-up (templates learned, caches filled)
    rates = {name: [] for name, _r, _f in jobs}
    for _ in range(trials):
        for name, run_once, flows in jobs:
            rates[name].append(measure(run_once, flows, seconds / trials))
    return {name: statistics.median(r) for name, r in rates.items()}


def ours(datagrams):
    state = ExporterState()
    decode(datagrams[0], state, 1700000010.0)   # template datagram (v9/IPFIX) or a data one (v5)

    def run():
        for d in datagrams:
            decode(d, state, 1700000010.0)
    return run


def baseline(datagrams):
    try:
        import netflow
    except ImportError:
        return None
    templates = {"netflow": {}, "ipfix": {}}

    def run():
        for d in datagrams:
            netflow.parse_packet(d, templates)
    return run


def struct_floor(datagrams):
    """Context row: only struct.iter_unpack over the same v9 data sets (no Flow, no conversion)."""
    st = struct.Struct("!" + "".join({1: "B", 2: "H", 4: "I"}[n] for _t, n in V9_FIELDS))
    size = st.size
    bodies = [d[24:24 + (len(d) - 24) // size * size] for d in datagrams[1:]]

    def run():
        for b in bodies:
            for _t in st.iter_unpack(b):
                pass
    return run


def capture_counts(paths):
    """Flows each decoder gets out of real exporter captures (tests/golden/captures)."""
    from boundaryflow import pcap
    try:
        import netflow
    except ImportError:
        netflow = None
    rows = []
    for path in paths:
        datagrams = list(pcap.read_udp(path))
        if not datagrams:
            continue
        states, ours_n, base_n, base_err = {}, 0, 0, 0
        templates = {}
        for arrival, exporter, _port, payload in datagrams:
            try:
                ours_n += len(decode(payload, states.setdefault(exporter, ExporterState()), arrival))
            except Exception:
                pass
            if netflow is not None:
                try:
                    pkt = netflow.parse_packet(payload, templates.setdefault(exporter, {"netflow": {}, "ipfix": {}}))
                    base_n += len(pkt.flows)
                except Exception:
                    base_err += 1
        rows.append((os.path.basename(path), len(datagrams), ours_n, base_n if netflow else None, base_err))
    return rows


def capture_replay(paths):
    """(run_once, flows per round, datagrams per round): every NetFlow/IPFIX datagram of the
    captures decoded in order, one ExporterState per exporter (templates learned in warm-up)."""
    from boundaryflow import pcap
    items = []
    for path in paths:
        if "sflow" not in os.path.basename(path):
            items += [(arrival, (path, exporter), payload)
                      for arrival, exporter, _port, payload in pcap.read_udp(path)]
    states = {}
    for arrival, key, payload in items:      # learn templates and options
        try:
            decode(payload, states.setdefault(key, ExporterState()), arrival)
        except Exception:
            pass

    def run():
        n = 0
        for arrival, key, payload in items:
            try:
                n += len(decode(payload, states[key], arrival))
            except Exception:
                pass
        return n
    flows = run()
    return run, flows, len(items)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="CPU seconds per row (all trials)")
    ap.add_argument("--trials", type=int, default=7, help="interleaved trials per row (median)")
    args = ap.parse_args(argv)
    import glob
    captures = sorted(glob.glob(os.path.join(os.path.dirname(HERE), "tests", "golden", "captures", "*.pcap*")))
    names, jobs = [], []
    for name, build in (("NetFlow v5", build_v5), ("NetFlow v9", build_v9), ("IPFIX", build_ipfix)):
        datagrams, per = build()
        data_datagrams = len(datagrams) if name == "NetFlow v5" else len(datagrams) - 1
        flows = data_datagrams * per
        names.append(name)
        jobs.append((name, ours(datagrams), flows))
        base = baseline(datagrams)
        if base:
            jobs.append(("base " + name, base, flows))
    datagrams, per = build_v9()
    jobs.append(("floor", struct_floor(datagrams), (len(datagrams) - 1) * per))
    replay, replay_flows, replay_datagrams = capture_replay(captures)
    if replay_flows:
        jobs.append(("captures", replay, replay_flows))
    rates = measure_interleaved(jobs, args.seconds, max(1, args.trials))
    rows = [(name, rates[name], rates.get("base " + name)) for name in names]
    floor = rates["floor"]
    print("| protocol | boundaryflow flows/CPU-s | netflow 0.12 flows/CPU-s | ratio |")
    print("|---|---:|---:|---:|")
    for name, a, b in rows:
        print("| %s | %s | %s | %s |" % (name, "{:,.0f}".format(a), "{:,.0f}".format(b) if b else "n/a",
                                          "%.1fx" % (a / b) if b else "n/a"))
    print("(median of %d interleaved trials per row)" % max(1, args.trials))
    print("(context: struct.iter_unpack alone over the v9 data sets: {:,.0f} tuples/CPU-s)".format(floor))
    if replay_flows:
        print("(context: the NetFlow/IPFIX captures below replayed: {:,.0f} flows/CPU-s, {:.1f} flows per "
              "datagram)".format(rates["captures"], replay_flows / replay_datagrams))
    counts = capture_counts(captures)
    if counts:
        print("\n| capture (real exporter) | datagrams | boundaryflow flows | netflow 0.12 flows | netflow errors |")
        print("|---|---:|---:|---:|---:|")
        for name, n, a, b, err in counts:
            print("| %s | %d | %d | %s | %d |" % (name, n, a, "n/a" if b is None else b, err))
    return rows


if __name__ == "__main__":
    main()
