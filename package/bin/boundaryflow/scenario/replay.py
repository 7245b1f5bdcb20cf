"""Run a scenario through the engine: the configuration that matches it, and an in-process replay
of its IPFIX datagrams (what a collector would receive, without the socket).

    cfg = engine_config(sc, work_dir)             # lookups written into work_dir/lookups
    pipe = replay_scenario(sc, cfg, sink)         # Pipeline after close()
    for exporter, message in exports(sc): ...     # the datagrams, with a second exporter optionally
"""
from __future__ import annotations

import heapq
import os

from ..lookups import CidrTable
from .ipfix_export import IpfixEncoder
from .pcap import export_time

_REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", ".."))
MAXMIND_TEST_DIRS = (os.path.join(os.getcwd(), ".cache", "maxmind-test-data", "test-data"),
                     os.path.join(_REPO, ".cache", "maxmind-test-data", "test-data"))


def maxmind_test_dbs():
    """(city, asn) paths of MaxMind's test databases (scripts/fetch_test_data.sh), or ("", "")."""
    for d in MAXMIND_TEST_DIRS:
        city, asn = os.path.join(d, "GeoIP2-City-Test.mmdb"), os.path.join(d, "GeoLite2-ASN-Test.mmdb")
        if os.path.exists(city):
            return city, asn if os.path.exists(asn) else ""
    return "", ""


def engine_mapping(sc, work_dir, listen=None, mode="conversation", **sections):
    """The ``config.from_mapping`` mapping for a scenario; writes its lookups into work_dir/lookups."""
    lookups = os.path.join(work_dir, "lookups")
    sc.write_lookups(lookups)
    city, asn = maxmind_test_dbs()
    base = {
        "collector": {"state_dir": os.path.join(work_dir, "state")},
        "enrichment": {"geoip_city_db": city, "geoip_asn_db": asn},
        "output": {"sink": "jsonl", "path": os.path.join(work_dir, "events.jsonl")},
        "reduction": {"mode": mode},
    }
    if listen:
        base["collector"]["listen"] = listen
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    return sc.config_mapping(lookups, **base)


def engine_config(sc, work_dir, **kw):
    from ..config import from_mapping
    return from_mapping(engine_mapping(sc, work_dir, **kw), work_dir)


def duplicate_records(sc, offset=0.003):
    """What a second exporter on the internet path (a core switch) reports of the same traffic:
    every record with an external end, a few milliseconds later and on its own interfaces."""
    internal = CidrTable((n, True) for n in sc.plan.internal_networks.split(","))
    out = []
    for r in sc.records:
        if r.src_ip in internal and r.dest_ip in internal:
            continue
        d = r.copy()
        d.start, d.end = round(r.start + offset, 3), round(r.end + offset, 3)
        d.input_if, d.output_if = (r.input_if or 0) + 100, (r.output_if or 0) + 100
        out.append(d)
    return out


def exports(sc, sampling=1, second_exporter=False):
    """(exporter address, IPFIX message) in arrival order. ``second_exporter`` adds the core
    switch's duplicate export of the internet-facing flows (its own domain and sequence)."""
    ex = sc.plan.exporter
    main = IpfixEncoder(ex["observation_domain"], sampling=sampling, seed=sc.seed).encode(sc.records)
    stream = ((ex["address"], m) for m in main)
    if not second_exporter:
        return stream
    second = ex["second"]
    dup = IpfixEncoder(second["observation_domain"], sampling=sampling, seed=sc.seed + 1).encode(duplicate_records(sc))
    return heapq.merge(stream, ((second["address"], m) for m in dup), key=lambda item: export_time(item[1]))


def replay_scenario(sc, cfg, sink, tick_every=60.0, sampling=1, second_exporter=False):
    """Feed every datagram to a Pipeline with its export time as arrival; returns the closed pipeline.
    ``sampling=N`` exports as a 1-in-N packet-sampling router would."""
    from ..pipeline import Pipeline
    pipe = Pipeline(cfg, sink)
    last = None
    for exporter, msg in exports(sc, sampling, second_exporter):
        at = export_time(msg)
        pipe.handle_datagram(msg, exporter, at)
        if last is None or at - last >= tick_every:
            pipe.tick(at)
            last = at
    pipe.close(now=last)
    return pipe
