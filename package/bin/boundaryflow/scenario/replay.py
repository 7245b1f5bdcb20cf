"""Run a scenario through the engine: the configuration that matches it, and an in-process replay
of its IPFIX datagrams (what a collector would receive, without the socket).

    cfg = engine_config(sc, work_dir)             # lookups written into work_dir/lookups
    pipe = replay_scenario(sc, cfg, sink)         # Pipeline after close()
"""
from __future__ import annotations

import os

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


def datagrams(sc, observation_domain=None, **kw):
    """The scenario's records as IPFIX messages, in export order."""
    domain = observation_domain or sc.plan.exporter["observation_domain"]
    return IpfixEncoder(domain, **kw).encode(sc.records)


def replay_scenario(sc, cfg, sink, tick_every=60.0):
    """Feed every datagram to a Pipeline with its export time as arrival; returns the closed pipeline."""
    from ..pipeline import Pipeline
    pipe = Pipeline(cfg, sink)
    exporter = sc.plan.exporter["address"]
    last = None
    for msg in datagrams(sc):
        at = export_time(msg)
        pipe.handle_datagram(msg, exporter, at)
        if last is None or at - last >= tick_every:
            pipe.tick(at)
            last = at
    pipe.close(now=last)
    return pipe
