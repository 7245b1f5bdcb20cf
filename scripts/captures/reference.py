#!/usr/bin/env python3
"""Write tests/golden/reference/<capture>.json: the capture's flow records as INDEPENDENT decoders
see them - tshark always, nfdump too when nfcapd collected the same export (NetFlow/IPFIX).

usage: reference.py --capture C.pcap --kind netflow5|netflow9|ipfix|sflow5 --port UDP_PORT
                    --exporter-command "..." [--nfdump-json FILE] --out REF.json
The record format and the decoders' handling live in tests/golden/reflib.py (shared with the tests).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden"))
import reflib  # noqa: E402

KEY_FIELDS = ("exporter", "src_ip", "dest_ip", "src_port", "dest_port", "protocol")
COUNTER_FIELDS = KEY_FIELDS + ("bytes", "packets", "bytes_rev", "packets_rev")
TIME_RESOLUTION = 0.001   # every exporter here reports milliseconds (sFlow: arrival, pcap µs)


def dumps_one_record_per_line(doc):
    """Valid JSON that diffs well: metadata first, then one record per line as a list of values in
    the order of "fields" (reflib.load_reference turns them back into dicts)."""
    def rows_block(recs):
        rows = [json.dumps([r[k] for k in reflib.RECORD_KEYS]) for r in recs]
        return '"fields": %s, "records": [\n%s\n]' % (json.dumps(list(reflib.RECORD_KEYS)), ",\n".join(rows))
    parts = []
    for key in sorted(doc):
        value = doc[key]
        if isinstance(value, dict) and "records" in value:
            meta = {k: v for k, v in value.items() if k != "records"}
            inner = [json.dumps(k) + ": " + json.dumps(v) for k, v in sorted(meta.items())]
            inner.append(rows_block(value["records"]))
            parts.append(json.dumps(key) + ": {" + ", ".join(inner) + "}")
        else:
            parts.append(json.dumps(key) + ": " + json.dumps(value))
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--capture", required=True)
    ap.add_argument("--kind", required=True, choices=reflib.KINDS)
    ap.add_argument("--port", required=True, type=int)
    ap.add_argument("--exporter-command", required=True)
    ap.add_argument("--nfdump-json")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    records = reflib.tshark_records(a.capture, a.kind, a.port)
    doc = {
        "capture": os.path.basename(a.capture),
        "kind": a.kind,
        "udp_port": a.port,
        "exporter_command": a.exporter_command,
        "time_resolution": TIME_RESOLUTION,
        "tshark": {"version": reflib.tshark_version(), "records": records},
    }
    if a.nfdump_json:
        with open(a.nfdump_json) as f:
            nfd = reflib.nfdump_records(f.read())
        ours, theirs = reflib.mask_icmp_ports(records), reflib.mask_icmp_ports(nfd)
        agrees = {"keys": not any(reflib.multiset_diff(ours, theirs, KEY_FIELDS))}
        missing, unexpected = reflib.multiset_diff(ours, theirs, COUNTER_FIELDS)
        agrees["counters"] = not missing and not unexpected
        group = COUNTER_FIELDS if agrees["counters"] else KEY_FIELDS
        agrees["times"] = agrees["keys"] and not reflib.time_mismatches(ours, theirs, group, TIME_RESOLUTION)
        # Where nfdump and tshark disagree the golden test compares with tshark only, and says why.
        notes = []
        if not agrees["counters"] and any(r["sampling_rate"] > 1 for r in records):
            notes.append("nfdump 1.7.1 does not scale counters by the sampling interval announced in options data")
        if not agrees["times"] and records and all(r["start"] <= r["end"] for r in records) and \
                any(r["start"] > r["end"] for r in nfd):
            notes.append("nfdump 1.7.1 swaps start and end of IPFIX records timed by IEs 22/21 "
                         "(sysUpTime offsets against systemInitTimeMilliseconds)")
        doc["nfdump"] = {"version": reflib.nfdump_version(), "records": nfd, "agrees_with_tshark": agrees,
                         "notes": notes}
        if not agrees["counters"]:
            print("  nfdump vs tshark counters differ:\n" + reflib.format_diff(missing, unexpected, COUNTER_FIELDS, 3))
    with open(a.out, "w") as f:
        f.write(dumps_one_record_per_line(doc))
    print("  reference %s: %d records (tshark)%s" % (
        os.path.basename(a.out), len(records),
        "; nfdump %d records, agrees on %s%s" % (
            len(doc["nfdump"]["records"]), doc["nfdump"]["agrees_with_tshark"],
            "".join("; " + n for n in doc["nfdump"]["notes"])) if "nfdump" in doc else ""))

if __name__ == "__main__":
    main()
