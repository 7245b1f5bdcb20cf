#!/usr/bin/env python3
"""Measure the PyPI `netflow` package (bitkeks/python-netflow-v9-softflowd) on the golden captures,
against the tshark reference: how many flow records it decodes, and whether it keeps RFC 5103
reverse counters. DESIGN.md §7 and the README quote these numbers; tests/golden/
test_netflow_package_baseline.py asserts them.

usage: netflow_package_check.py [CAPTURE_NAME ...]   (default: the NetFlow/IPFIX golden captures)
"""
from __future__ import annotations

import collections
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "..", "tests", "golden")
sys.path.insert(0, HERE)
sys.path.insert(0, GOLDEN)
import reflib  # noqa: E402
from replay_udp import udp_payloads  # noqa: E402

DEFAULT = ("softflowd_v5", "softflowd_v9", "softflowd_ipfix", "softflowd_ipfix_bidir", "pmacct_v9", "pmacct_ipfix",
           "nfreplay_v5", "nfreplay_v9")


def measure(name):
    """Decode one capture with `netflow` (templates carried across datagrams, as its collector
    does) and compare with the reference. Returns a dict of counts."""
    import netflow
    ref = reflib.load_reference(os.path.join(GOLDEN, "reference", name + ".json"))["tshark"]["records"]
    templates = {"netflow": {}, "ipfix": {}}
    flows, errors = [], collections.Counter()
    for payload in udp_payloads(os.path.join(GOLDEN, "captures", name + ".pcap")):
        try:
            packet = netflow.parse_packet(payload, templates)
        except Exception as e:   # noqa: BLE001 - what the package raises is the measurement
            errors[type(e).__name__] += 1
            continue
        for f in packet.flows:
            d = f.data if hasattr(f, "data") else f.__dict__
            if any(k in d for k in ("octetDeltaCount", "IN_BYTES", "IN_OCTETS", "OCTETS", "BYTES")):
                flows.append(d)   # options records (sampling, system init time) are not flows
    result = {"capture": name, "reference_flows": len(ref), "decoded_flows": len(flows), "errors": dict(errors)}
    biflows = [r for r in ref if r["bytes_rev"] or r["packets_rev"]]
    if biflows:
        # Records come out in export order on both sides: pair them by position.
        def fwd(d):
            return (d.get("octetDeltaCount", d.get("IN_BYTES")), d.get("packetDeltaCount", d.get("IN_PKTS")))
        wrong_forward = sum(1 for d, r in zip(flows, ref) if fwd(d) != (r["bytes"], r["packets"]))
        reverse_kept = sum(1 for d in flows if any("reverse" in k.lower() for k in d))
        result.update(biflow_records=len(biflows), records_with_wrong_forward_counters=wrong_forward,
                      records_with_reverse_counters=reverse_kept,
                      biflow_bytes_lost=sum(r["bytes_rev"] for r in biflows))
    return result


def main(argv):
    import netflow  # noqa: F401 - fail early with a clear message
    from importlib.metadata import version
    print("netflow %s against tshark references" % version("netflow"))
    for name in argv or DEFAULT:
        r = measure(name)
        line = "%-24s %4d of %4d flows decoded" % (name, r["decoded_flows"], r["reference_flows"])
        if r["errors"]:
            line += ", errors: %s" % ", ".join("%s x%d" % kv for kv in sorted(r["errors"].items()))
        if "biflow_records" in r:
            line += "; %d biflow records: forward counters wrong on %d (%.0f%%), reverse counters kept on %d, " \
                    "%d reverse bytes lost" % (r["biflow_records"], r["records_with_wrong_forward_counters"],
                                               100.0 * r["records_with_wrong_forward_counters"] / r["reference_flows"],
                                               r["records_with_reverse_counters"], r["biflow_bytes_lost"])
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
