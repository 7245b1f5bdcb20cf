#!/usr/bin/env python3
"""Events for the dashboard previews: a replayed scenario, as Splunk would index them.

    python make_events.py OUT_DIR [--seed 7] [--days 3]

Generates the AI-cluster scenario (boundaryflow.scenario: a learning period, then attacks of every
signature and benign near-misses), encodes its records as IPFIX into a pcap, and replays that
capture through the real collector pipeline (`boundaryflow replay`, flow reduction, JSONL
output). Writes OUT_DIR/events.jsonl, OUT_DIR/lookups/*.csv (the scenario's lookups) and
OUT_DIR/scenario.json (start, end, seed). `boundaryflow demo` writes the same kind of events.
"""
from __future__ import annotations

import argparse
import configparser
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "package" / "bin"))

from boundaryflow.scenario.generate import generate  # noqa: E402
from boundaryflow.scenario.ipfix_export import IpfixEncoder  # noqa: E402
from boundaryflow.scenario.pcap import write_pcap  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--days", type=int, default=3)
    args = ap.parse_args(argv)
    out = pathlib.Path(args.out_dir).resolve()
    (out / "lookups").mkdir(parents=True, exist_ok=True)
    sc = generate(seed=args.seed, days=args.days, learning_days=args.days - 1)
    sc.write_lookups(str(out / "lookups"))
    n = write_pcap(str(out / "scenario.pcap"), IpfixEncoder().encode(sc.records))
    # GeoIP from MaxMind's official test databases (the scenario's public addresses come from
    # their ranges), fetched by scripts/fetch_test_data.sh; without them events carry no geo.
    subprocess.run(["bash", str(ROOT / "scripts" / "fetch_test_data.sh")], check=False)
    mmdb = ROOT / ".cache" / "maxmind-test-data" / "test-data"
    geo = {}
    if (mmdb / "GeoIP2-City-Test.mmdb").exists():
        geo = {"geoip_city_db": str(mmdb / "GeoIP2-City-Test.mmdb"),
               "geoip_asn_db": str(mmdb / "GeoLite2-ASN-Test.mmdb")}
    mapping = sc.config_mapping(str(out / "lookups"), enrichment=geo,
                                collector={"state_dir": str(out / "state")},
                                reduction={"mode": "flow"},
                                output={"sink": "jsonl", "path": str(out / "events.jsonl")})
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_dict(mapping)
    with open(out / "replay.ini", "w") as fh:
        cp.write(fh)
    if (out / "events.jsonl").exists():
        (out / "events.jsonl").unlink()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "package" / "bin"))
    subprocess.run([sys.executable, "-m", "boundaryflow.cli", "replay", str(out / "scenario.pcap"),
                    "--config", str(out / "replay.ini")], check=True, env=env)
    (out / "scenario.json").write_text(json.dumps({"seed": sc.seed, "start": sc.start, "end": sc.end,
                                                   "learning_end": sc.learning_end, "datagrams": n,
                                                   "summary": sc.summary()}, indent=2))
    print("events: %s (%d datagrams replayed)" % (out / "events.jsonl", n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
