"""``boundaryflow demo``: a synthetic AI cluster exported as real IPFIX over UDP to a live collector.

Steps: generate the scenario (learning days, then injected attacks and benign near-misses), write
its lookups into the work dir, start the collector on a free loopback port, export every record
over UDP with a progress line, stop the collector once it has everything, then print a summary:
flows, bytes by plane, findings by signature with their evidence (checked against the scenario's
ground truth), and where the JSONL events (and rendered dashboards, when present) are.
"""
from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import shutil
import sys
import threading
import time

from ..collector import free_udp_port
from ..data import read_csv
from .generate import DAY, generate
from .ipfix_export import IpfixExporter, send_stream
from .pcap import write_pcap
from .replay import engine_mapping, exports, maxmind_test_dbs
from .score import score

BACKLOG = 500          # datagrams the exporter may run ahead of the collector


def recent_monday(days, now=None):
    """The latest Monday 00:00 UTC from which ``days`` simulated days end before ``now``."""
    now = time.time() if now is None else now
    latest = now - days * DAY
    d = datetime.datetime.fromtimestamp(latest, datetime.timezone.utc).date()
    monday = d - datetime.timedelta(days=d.weekday())
    return datetime.datetime(monday.year, monday.month, monday.day, tzinfo=datetime.timezone.utc).timestamp()


def parse_args(argv):
    p = argparse.ArgumentParser(prog="boundaryflow demo", description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join("out", "demo"), help="work directory (default ./out/demo)")
    p.add_argument("--seed", type=int, default=7, help="scenario seed: other seeds pick other hosts, sizes, times")
    p.add_argument("--days", type=int, default=3, help="simulated days (default 3)")
    p.add_argument("--learning-days", type=int, default=2, help="learning period in days (default 2)")
    p.add_argument("--scale", type=float, default=1.0, help="multiplies benign traffic rates (default 1.0)")
    p.add_argument("--no-attacks", action="store_true", help="benign traffic and near-misses only")
    p.add_argument("--rate", type=float, default=3000.0, help="datagrams per second sent (default 3000)")
    p.add_argument("--sampling", type=int, default=1, help="export as a 1-in-N packet-sampling router (default 1)")
    p.add_argument("--second-exporter", action="store_true",
                   help="a core switch (127.0.0.2) also exports the internet-facing flows: duplicates to remove")
    p.add_argument("--port", type=int, default=0, help="collector UDP port on 127.0.0.1 (default: a free one)")
    p.add_argument("--start", type=float, help="scenario start (epoch); default: a recent Monday 00:00 UTC")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    return p.parse_args(argv)


class Progress(object):
    """One stderr line, rewritten in place (a plain line per update when stderr is not a terminal)."""

    def __init__(self, quiet=False, stream=None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = 0.0

    def update(self, text, force=False):
        if self.quiet:
            return
        now = time.monotonic()
        if not force and now - self._last < (0.1 if self.tty else 2.0):
            return
        self._last = now
        if self.tty:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self):
        if self.tty and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()


def _human_bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return ("%.1f %s" % (n, unit)) if unit != "B" else "%d B" % n
        n /= 1024.0


def _when(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%a %Y-%m-%d %H:%M UTC")


def _evidence_line(ev):
    """A short, verifiable line from a finding's evidence."""
    evid = ev.get("evidence") or {}
    parts = []
    for key, fmt in (("bytes_out", _human_bytes), ("threshold_bytes", _human_bytes),
                     ("window_seconds", lambda v: "%gh" % (v / 3600.0)), ("duration", lambda v: "%.1fh" % (v / 3600.0)),
                     ("country", str), ("learned_countries", lambda v: ",".join(v)), ("connections", str),
                     ("threshold", lambda v: "%g" % v), ("port", str), ("threat_source", str),
                     ("threat_category", str), ("local_time", str)):
        if key in evid and evid[key] not in (None, "", []):
            parts.append("%s=%s" % (key, fmt(evid[key])))
    allow = evid.get("allowlist")
    if isinstance(allow, dict) and allow.get("file"):
        parts.append("allowlist %s: %s" % (allow["file"], "match" if allow.get("matched") else "no match"))
    return ", ".join(parts[:6])


def read_events(path):
    flows, findings, health = [], [], []
    if not os.path.exists(path):
        return flows, findings, health
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            env = json.loads(line)
            st = env.get("sourcetype")
            (flows if st == "boundaryflow:flow" else findings if st == "boundaryflow:finding" else health).append(env)
    return flows, findings, health


def summary(sc, path, pipe_counters, sent, elapsed, port, dashboards, sampling=1):
    flows, findings, _health = read_events(path)
    out = []
    w = out.append
    sampled = " (1-in-%d packet sampling)" % sampling if sampling > 1 else ""
    w("")
    w("Boundary Flow demo - synthetic AI cluster (seed %d)" % sc.seed)
    w("  simulated   %s -> %s, learning until %s" % (_when(sc.start), _when(sc.end), _when(sc.learning_end)))
    w("  exported    %d flow records in %d IPFIX datagrams over UDP to 127.0.0.1:%d in %.1f s%s"
      % (len(sc.records), sent, port, elapsed, sampled))
    w("  collector   %d flows in, %d duplicates removed, %d events out, %d decode errors, %d late records"
      % (pipe_counters.get("flows_in", 0), pipe_counters.get("duplicates", 0), pipe_counters.get("events_out", 0),
         pipe_counters.get("decode_errors", 0), pipe_counters.get("late_records", 0)))
    by_plane = collections.Counter()
    records_by_plane = collections.Counter()
    for env in flows:
        ev = env["event"]
        plane = ev.get("plane") or "other"
        by_plane[plane] += ev.get("bytes", 0)
        records_by_plane[plane] += ev.get("flow_count", 1)
    w("")
    w("Bytes by plane (%d flow events, %d records folded in)" % (len(flows), sum(records_by_plane.values())))
    for plane, b in by_plane.most_common():
        w("  %-12s %12s  %8d records" % (plane, _human_bytes(b), records_by_plane[plane]))
    sigs = {r["signature"]: r for r in read_csv("signatures.csv")}
    expected = collections.Counter(t["signature"] for t in sc.truth)
    got = collections.defaultdict(list)
    for env in findings:
        got[env["event"]["signature"]].append(env)
    scores = score(findings, sc.truth)
    w("")
    w("Findings by signature (%d findings; expected from the scenario's ground truth: %d)"
      % (len(findings), len(sc.truth)))
    for sig in sorted(set(sigs) | set(got) | set(expected)):
        envs = got.get(sig, [])
        s = scores.get(sig, {"tp": 0, "fp": len(envs)})
        w("  %-30s %-8s %2d found, %2d of %d expected matched%s" % (
            sig, (sigs.get(sig) or {}).get("severity", ""), len(envs), s["tp"], expected.get(sig, 0),
            (", %d unexpected" % s["fp"]) if s["fp"] else ""))
        for env in envs[:3]:
            ev = env["event"]
            w("      %s  %s -> %s  %s" % (_when(env["time"]), ev.get("src"), ev.get("dest"), _evidence_line(ev)))
        for t in s.get("missed", []):
            w("      MISSED   %s -> %s  (injected %s)" % (t["src"] or "*", t["dest"], _when(t["time_first"])))
    quiet = collections.Counter(n["kind"] for n in sc.near_misses)
    if quiet:
        w("")
        w("Benign near-misses in the traffic (must raise nothing): " +
          ", ".join("%s x%d" % (k, v) for k, v in sorted(quiet.items())))
    w("")
    w("Output")
    w("  events (JSONL, HEC envelopes): %s" % os.path.abspath(path))
    w("  lookups written for the scenario: %s" % os.path.abspath(os.path.join(os.path.dirname(path), "lookups")))
    w("  capture of the export (replay with `boundaryflow replay`): %s"
      % os.path.abspath(os.path.join(os.path.dirname(path), "ipfix.pcap")))
    w("  ground truth: %s" % os.path.abspath(os.path.join(os.path.dirname(path), "truth.json")))
    for d in dashboards:
        if os.path.isdir(d):
            w("  rendered dashboards: %s" % os.path.abspath(d))
            break
    if os.path.exists(os.path.join("scripts", "render_dashboards.sh")):
        # Rendering needs chromium and Splunk's dashboard packages from npm (minutes on a fresh
        # machine), so the demo points at it instead of running it.
        w("  render the dashboards from these events: scripts/render_dashboards.sh %s %s"
          % (os.path.relpath(path), os.path.relpath(os.path.join(os.path.dirname(path), "lookups"))))
    if not maxmind_test_dbs()[0]:
        w("")
        w("Note: no GeoIP database (run scripts/fetch_test_data.sh for MaxMind's test databases):")
        w("      countries are unknown, so inference_new_geo cannot fire.")
    return "\n".join(out) + "\n"


def run_demo(argv=None):
    args = parse_args(list(argv or []))
    try:
        from ..config import from_mapping
        from ..pipeline import Collector
        from ..sinks import make_sink
    except ImportError as e:
        sys.stderr.write("boundaryflow demo: the engine is incomplete (%s)\n" % e)
        return 2
    progress = Progress(args.quiet)
    work = os.path.abspath(args.out)
    os.makedirs(work, exist_ok=True)
    # a fresh learning period every run: forget the previous run's state and events
    for name in ("state", "events.jsonl"):
        p = os.path.join(work, name)
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.remove(p)
    start = args.start if args.start is not None else recent_monday(args.days)
    progress.update("generating %d simulated days (seed %d) ..." % (args.days, args.seed), force=True)
    sc = generate(seed=args.seed, start=start, days=args.days, learning_days=args.learning_days,
                  attacks=not args.no_attacks, scale=args.scale)
    port = args.port or free_udp_port()
    cfg = from_mapping(engine_mapping(sc, work, listen="127.0.0.1:%d" % port,
                                      collector={"health_interval": "10s"}), work)
    with open(os.path.join(work, "truth.json"), "w", encoding="utf-8") as fh:
        json.dump({"seed": sc.seed, "start": sc.start, "end": sc.end, "learning_end": sc.learning_end,
                   "truth": sc.truth, "near_misses": sc.near_misses}, fh, indent=1)
    sink = make_sink(cfg)
    collector = Collector(cfg, sink)
    collector.bind()
    stop = threading.Event()
    thread = threading.Thread(target=collector.run, args=(stop,), name="collector", daemon=True)
    thread.start()
    pipe = collector.pipeline
    t0 = time.monotonic()
    ex = sc.plan.exporter
    # the border router sends from 127.0.0.1; the optional core switch (duplicates) from 127.0.0.2
    senders = {ex["address"]: IpfixExporter(("127.0.0.1", port), rate=args.rate)}
    if args.second_exporter:
        senders[ex["second"]["address"]] = IpfixExporter(("127.0.0.1", port),
                                                         source=(ex["second"]["loopback"], 0))
    try:
        items = list(exports(sc, args.sampling, args.second_exporter))
        loopback = {ex["address"]: "127.0.0.1", ex.get("second", {}).get("address"): ex.get("second", {}).get("loopback")}
        write_pcap(os.path.join(work, "ipfix.pcap"), [(loopback[a], m) for a, m in items], dst=("127.0.0.1", port))
        total = len(items)

        def show(sent):
            progress.update("exporting IPFIX over UDP: %d/%d datagrams (%d%%) | collector: %d datagrams, "
                            "%d flows, %d findings" % (sent, total, 100 * sent // max(total, 1),
                                                       pipe.totals["datagrams"], pipe.totals["flows_in"],
                                                       pipe.totals["findings"]))

        def keep_up(sent):
            # a demo must not lose datagrams on a slow machine: stay a bounded backlog ahead
            while sent - pipe.totals["datagrams"] > BACKLOG and thread.is_alive():
                time.sleep(0.005)
        sent = send_stream(((senders[a], m) for a, m in items), args.rate, show, 50, keep_up)
        # wait until the collector has processed every datagram (or stops making progress)
        last, last_change = -1, time.monotonic()
        while pipe.totals["datagrams"] < sent and time.monotonic() - last_change < 10:
            if pipe.totals["datagrams"] != last:
                last, last_change = pipe.totals["datagrams"], time.monotonic()
            progress.update("collector catching up: %d/%d datagrams, %d flows, %d findings"
                            % (pipe.totals["datagrams"], sent, pipe.totals["flows_in"], pipe.totals["findings"]))
            time.sleep(0.1)
    finally:
        for sender in senders.values():
            sender.close()
        stop.set()
        thread.join(120)
        sink.close()
    elapsed = time.monotonic() - t0
    progress.update("done: %d datagrams, %d flows, %d findings" % (pipe.totals["datagrams"], pipe.totals["flows_in"],
                                                                   pipe.totals["findings"]), force=True)
    progress.done()
    counters = pipe.counters()
    dashboards = [os.path.join(os.path.dirname(work), "dashboards"), os.path.join("out", "dashboards"),
                  os.path.join("docs", "dashboards")]
    sys.stdout.write(summary(sc, cfg.output.path, counters, sent, elapsed, port, dashboards, args.sampling))
    sys.stdout.flush()
    if pipe.totals["datagrams"] < sent or counters.get("decode_errors", 0):
        sys.stderr.write("boundaryflow demo: the collector processed %d of %d datagrams (socket drops: %s, "
                         "decode errors: %s)\n" % (pipe.totals["datagrams"], sent, pipe.socket_drops,
                                                   counters.get("decode_errors", 0)))
        return 1
    return 0
