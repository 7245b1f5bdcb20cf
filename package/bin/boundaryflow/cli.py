"""``boundaryflow collect | replay | demo | bench | check-config``."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
import threading

from . import __version__
from . import config as config_mod
from .gc_tuning import tune_gc

log = logging.getLogger("boundaryflow")


def _setup_logging(verbose):
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s boundaryflow: %(message)s")


def _load_config(args, overrides=None):
    """The config file (or defaults) with command-line overrides applied before validation."""
    import configparser
    mapping, base_dir = {}, os.getcwd()
    if getattr(args, "config", None):
        parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"))
        parser.optionxform = str
        try:
            with open(args.config, encoding="utf-8") as fh:
                parser.read_file(fh)
        except OSError as e:
            raise config_mod.ConfigError("cannot read config file %s: %s" % (args.config, e.strerror))
        except configparser.Error as e:
            raise config_mod.ConfigError("config file %s: %s" % (args.config, e))
        mapping = {s: dict(parser.items(s)) for s in parser.sections()}
        base_dir = os.path.dirname(os.path.abspath(args.config))
    for (section, key), value in (overrides or {}).items():
        if value is not None:
            mapping.setdefault(section, {})[key] = value
    return config_mod.from_mapping(mapping, base_dir)


def _make_sink(cfg):
    from .sinks import make_sink
    return make_sink(cfg)


def cmd_replay(args):
    from .pipeline import replay
    overrides = {("output", "sink"): args.output, ("output", "path"): args.path,
                 ("reduction", "mode"): args.mode}
    if args.output == "jsonl" and args.path is None:
        overrides[("output", "path")] = "-"
    tmp = None
    if not args.config and not args.state_dir:
        # A replay must not leave templates/detector state in the working directory by surprise.
        tmp = tempfile.TemporaryDirectory(prefix="boundaryflow-replay-")
        overrides[("collector", "state_dir")] = tmp.name
    elif args.state_dir:
        overrides[("collector", "state_dir")] = os.path.abspath(args.state_dir)
    cfg = _load_config(args, overrides)
    sink = _make_sink(cfg)
    ports = set(args.port) if args.port else None
    try:
        pipe = replay(args.capture, cfg, sink, ports=ports)
    finally:
        sink.close()
        if tmp is not None:
            tmp.cleanup()
    t = pipe.counters()
    log.info("replayed %s: %d datagrams, %d records, %d events, %d findings, %d decode errors",
             args.capture, t.get("datagrams", 0), t.get("flows_in", 0), t.get("events_out", 0),
             t.get("findings", 0), t.get("decode_errors", 0))
    return 0


def cmd_collect(args):
    from .pipeline import Collector
    cfg = _load_config(args, {("output", "sink"): args.output, ("output", "path"): args.path})
    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("signal %d: flushing state and stopping", signum)
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if cfg.collector.workers > 1:
        from .workers import run_workers
        return run_workers(cfg, stop)
    sink = _make_sink(cfg)
    try:
        Collector(cfg, sink).run(stop)
    finally:
        sink.close()
    return 0


def cmd_check_config(args):
    cfg = _load_config(args)
    for section, key, _p, _d, _h in config_mod.SCHEMA:
        print("[%s] %s = %r" % (section, key, getattr(getattr(cfg, section), key)))
    for name in cfg.feeds:
        print("[threat_feed:%s] configured" % name)
    print("configuration OK")
    return 0


def cmd_demo(args, rest):
    from .scenario.demo import run_demo
    return run_demo(rest)


def cmd_bench(args, rest):
    from .benchmark import run_benchmark
    return run_benchmark(rest)


def build_parser():
    p = argparse.ArgumentParser(prog="boundaryflow", description="Boundary Flow collector engine %s" % __version__)
    p.add_argument("--version", action="version", version=__version__)
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command")
    outputs = ("jsonl", "splunk", "hec")

    r = sub.add_parser("replay", help="process a pcap/pcapng capture as the live collector would")
    r.add_argument("capture")
    r.add_argument("--config", help="INI file (DESIGN.md §5 keys)")
    r.add_argument("--output", choices=outputs, help="sink (default: [output] sink, jsonl to stdout)")
    r.add_argument("--path", help="jsonl output file ('-' = stdout)")
    r.add_argument("--mode", choices=("flow", "conversation", "consolidated"), help="reduction mode")
    r.add_argument("--state-dir", help="state directory (default: the config's, else a temporary one)")
    r.add_argument("--port", type=int, action="append", help="only datagrams to this UDP port (repeatable)")

    c = sub.add_parser("collect", help="listen for NetFlow/IPFIX/sFlow over UDP")
    c.add_argument("--config", required=True)
    c.add_argument("--output", choices=outputs)
    c.add_argument("--path")

    k = sub.add_parser("check-config", help="validate a config file and print the values")
    k.add_argument("--config", required=True)

    sub.add_parser("demo", help="AI-cluster scenario exported as IPFIX over UDP to a live collector",
                   add_help=False)
    sub.add_parser("bench", help="quick end-to-end throughput measurement", add_help=False)
    return p


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    tune_gc()
    parser = build_parser()
    # demo/bench own their options: pass the rest through untouched.
    if argv and argv[0] in ("demo", "bench"):
        _setup_logging(False)
        return (cmd_demo if argv[0] == "demo" else cmd_bench)(None, argv[1:])
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        if args.command == "replay":
            return cmd_replay(args)
        if args.command == "collect":
            return cmd_collect(args)
        if args.command == "check-config":
            return cmd_check_config(args)
    except config_mod.ConfigError as e:
        print("boundaryflow: configuration error: %s" % e, file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print("boundaryflow: %s" % e, file=sys.stderr)
        return 1
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
