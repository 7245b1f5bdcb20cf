"""Reference flow records from INDEPENDENT decoders (tshark, nfdump), and a multiset comparison.

Used by scripts/captures/reference.py (writes tests/golden/reference/<capture>.json) and by the
golden tests (re-run tshark live; compare our decoder with the stored reference).

A normalized record is a dict with these keys (values in the exporter's own orientation, as the
collector decodes them, NOT oriented client -> server):
    exporter, observation_domain, src_ip, dest_ip, src_port, dest_port, protocol,
    bytes, packets            forward counters, already multiplied by the sampling rate
    bytes_rev, packets_rev    RFC 5103 reverse counters (0 when the record is unidirectional)
    start, end                epoch seconds (float), rounded to the microsecond
    tcp_flags                 OR of both directions' flags (int), None when the export has none
    sampling_rate             1-in-N applied to the counters (1 = unsampled)
For ICMP the ports are NetFlow's convention: src_port 0, dest_port = type * 256 + code.
sFlow flow samples become one record each: bytes = frame_length * rate, packets = rate, and
start = end = the datagram's arrival time (sFlow carries no flow times).
"""
from __future__ import annotations

import calendar
import collections
import json
import os
import subprocess
import time

KINDS = ("netflow5", "netflow9", "ipfix", "sflow5")
RECORD_KEYS = ("exporter", "observation_domain", "src_ip", "dest_ip", "src_port", "dest_port", "protocol",
               "bytes", "packets", "bytes_rev", "packets_rev", "start", "end", "tcp_flags", "sampling_rate")
ICMP_PROTOCOLS = (1, 58)
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                       "Nov", "Dec"), 1)}


# -- tshark -------------------------------------------------------------------------------------

def tshark_version():
    out = subprocess.run(["tshark", "-v"], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0].strip()


def tshark_packets(capture, kind, port):
    """tshark -T json of a capture, dissecting udp PORT as cflow or sflow.
    --no-duplicate-keys turns repeated fields (an RFC 5103 record's forward and reverse octets) into
    lists in template order, instead of JSON objects with duplicate keys."""
    proto = "sflow" if kind == "sflow5" else "cflow"
    cmd = ["tshark", "-n", "-r", capture, "-d", "udp.port==%d,%s" % (port, proto), "-T", "json",
           "--no-duplicate-keys"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env=dict(os.environ, TZ="UTC")).stdout
    return json.loads(out)


def tshark_records(capture, kind, port):
    """Normalized flow records of one capture as tshark decodes it."""
    _SYS_INIT.clear()
    _SAMPLING.clear()
    _SAMPLERS.clear()
    records = []
    for packet in tshark_packets(capture, kind, port):
        layers = packet["_source"]["layers"]
        exporter = layers["ip"]["ip.src"] if "ip" in layers else layers["ipv6"]["ipv6.src"]
        arrival = float(layers["frame"]["frame.time_epoch"])
        if kind == "sflow5":
            records.extend(_sflow_records(layers["sflow"], exporter, arrival))
        else:
            records.extend(_cflow_records(layers["cflow"], kind, exporter))
    return records


def _first(value):
    return value[0] if isinstance(value, list) else value


def _nth(value, i):
    if isinstance(value, list):
        return value[i] if i < len(value) else None
    return value if i == 0 else None


def _abs_time(text):
    """'Jan 15, 2026 12:01:10.000000000 UTC' -> epoch seconds (float, ns kept as far as float can)."""
    mon, day, year, clock, _tz = text.replace(",", "").split()
    hms, _, frac = clock.partition(".")
    h, m, s = (int(x) for x in hms.split(":"))
    secs = calendar.timegm((int(year), _MONTHS[mon], int(day), h, m, s, 0, 0, 0))
    return secs + (int(frac.ljust(9, "0")[:9]) / 1e9 if frac else 0.0)


def _cflow_records(cflow, kind, exporter):
    """Flow records of one NetFlow/IPFIX datagram (templates and options records skipped)."""
    # Times: v5/v9 records hold sysUpTime offsets -> epoch = export time - sysUpTime + offset.
    # IPFIX records hold absolute times, or sysUpTime offsets against systemInitTimeMilliseconds
    # sent in options data (softflowd does this) - that value is collected per datagram.
    version = int(cflow["cflow.version"])
    header_time = None
    if version == 5:
        header_time = int(cflow["cflow.timestamp_tree"]["cflow.unix_secs"]) + \
            int(cflow["cflow.timestamp_tree"]["cflow.unix_nsecs"]) / 1e9 - float(cflow["cflow.sysuptime"])
    elif version == 9:
        header_time = int(cflow["cflow.timestamp_tree"]["cflow.unix_secs"]) - float(cflow["cflow.sysuptime"])
    domain = int(cflow.get("cflow.source_id", cflow.get("cflow.od_id", 0)))
    sampling = int(cflow.get("cflow.samplerate", 0) or 0) if version == 5 else 0
    records = []
    for rec in _flow_dicts(cflow):
        if "cflow.sys_init_time" in rec:
            _SYS_INIT[exporter, domain] = _abs_time(rec["cflow.sys_init_time"])
        if "cflow.sampling_packet_interval" in rec or "cflow.sampling_interval" in rec:
            _SAMPLING[exporter, domain] = int(_first(rec.get("cflow.sampling_packet_interval")
                                                     or rec.get("cflow.sampling_interval")))
        if "cflow.sampler_random_interval" in rec:   # v9 IEs 48/50 (pmacct): rate per sampler id
            _SAMPLERS[exporter, domain, int(_first(rec.get("cflow.sampler_id", 0)))] = \
                int(_first(rec["cflow.sampler_random_interval"]))
        if "cflow.octets" not in rec and "cflow.octets64" not in rec:
            continue   # options data (sampling, interface names, system init time)
        octets = rec.get("cflow.octets", rec.get("cflow.octets64"))
        pkts = rec.get("cflow.packets", rec.get("cflow.packets64"))
        # no source sampling rate in the export: the rate defaults to 1 (softflowd sends 1 anyway)
        rate = sampling or _SAMPLING.get((exporter, domain)) or 1
        if "cflow.sampler_id" in rec:
            rate = _SAMPLERS.get((exporter, domain, int(_first(rec["cflow.sampler_id"]))), rate)
        r = {
            "exporter": exporter,
            "observation_domain": domain,
            "src_ip": rec.get("cflow.srcaddr") or rec.get("cflow.srcaddrv6"),
            "dest_ip": rec.get("cflow.dstaddr") or rec.get("cflow.dstaddrv6"),
            "src_port": int(rec.get("cflow.srcport", 0)),
            "dest_port": int(rec.get("cflow.dstport", 0)),
            "protocol": int(rec.get("cflow.protocol", 0)),
            "bytes": int(_nth(octets, 0)) * rate,
            "packets": int(_nth(pkts, 0)) * rate,
            "bytes_rev": int(_nth(octets, 1) or 0) * rate,
            "packets_rev": int(_nth(pkts, 1) or 0) * rate,
            "tcp_flags": None,
            "sampling_rate": rate,
        }
        if "cflow.tcpflags" in rec:
            flags = rec["cflow.tcpflags"]
            r["tcp_flags"] = 0
            for f in (flags if isinstance(flags, list) else [flags]):
                r["tcp_flags"] |= int(f, 16)
        if r["protocol"] in ICMP_PROTOCOLS:
            if "cflow.icmp_type_code_ipv4" in rec:     # IE 32: type * 256 + code
                r["dest_port"] = int(_first(rec["cflow.icmp_type_code_ipv4"]), 16)
            elif "cflow.icmp_ipv6_type" in rec:        # IE 139 (shown split)
                r["dest_port"] = int(_first(rec["cflow.icmp_ipv6_type"])) * 256 + int(_first(rec.get("cflow.icmp_ipv6_code", 0)))
            elif "cflow.icmp_type" in rec:             # IE 176/177
                r["dest_port"] = int(rec["cflow.icmp_type"]) * 256 + int(rec.get("cflow.icmp_code", 0))
            r["src_port"] = 0
        times = rec.get("cflow.timedelta_tree", {})
        base = header_time if header_time is not None else _SYS_INIT.get((exporter, domain))
        start, end = _record_time(times, "start", base, rec), _record_time(times, "end", base, rec)
        r["start"], r["end"] = round(start, 6), round(end, 6)
        records.append(r)
    return records


def _record_time(times, which, base, rec):
    """Absolute IEs as they are; sysUpTime offsets (shown as relative seconds) added to the base."""
    rel, absolute = times.get("cflow.time" + which), times.get("cflow.abstime" + which)
    if rel is None and absolute is not None:
        t = _abs_time(absolute)
        if t != 0.0 or base is None:
            return t
        rel = "0"   # tshark prints a sysUpTime offset of exactly 0 as the epoch (1970-01-01)
    if base is None:
        raise ValueError("record with sysUpTime times but no export time / systemInitTime: %r" % rec)
    return base + float(rel)


_SYS_INIT = {}   # (exporter, domain) -> systemInitTimeMilliseconds as epoch seconds (IPFIX options)
_SAMPLING = {}   # (exporter, domain) -> sampling interval from options data
_SAMPLERS = {}   # (exporter, domain, sampler id) -> FLOW_SAMPLER_RANDOM_INTERVAL from options data


def _flow_dicts(node):
    """Every record dict below a cflow layer: values of 'Flow N' / 'pdu N/M' keys, in order."""
    for key, value in node.items():
        if not isinstance(value, dict):
            continue
        if key.startswith("Flow ") or key.startswith("pdu "):
            yield value
        elif key.startswith("Set ") or key.startswith("FlowSet "):
            if "Template" in key:
                continue
            for sub in _flow_dicts(value):
                yield sub


def _sflow_records(sflow, exporter, arrival):
    records = []
    for key, sample in sflow.items():
        if not (isinstance(sample, dict) and key.startswith("Flow sample")):
            continue
        rate = int(sample.get("sflow.flow_sample.sampling_rate", 1))
        header = sample.get("Raw packet header")
        if header is None:
            continue
        tree = header.get("sflow_245.header_tree", {})
        ip = tree.get("ip") or tree.get("ipv6")
        if ip is None:
            continue   # not IP (ARP...): no flow record
        proto = int(ip.get("ip.proto") or ip.get("ipv6.nxt"))
        r = {
            "exporter": exporter,
            "observation_domain": int(sflow.get("sflow_245.sub_agent_id", 0)),
            "src_ip": ip.get("ip.src") or ip.get("ipv6.src"),
            "dest_ip": ip.get("ip.dst") or ip.get("ipv6.dst"),
            "src_port": 0, "dest_port": 0, "protocol": proto,
            "bytes": int(header["sflow_245.header.frame_length"]) * rate,
            "packets": rate, "bytes_rev": 0, "packets_rev": 0,
            "start": round(arrival, 6), "end": round(arrival, 6),
            "tcp_flags": None, "sampling_rate": rate,
        }
        if "tcp" in tree:
            r["src_port"], r["dest_port"] = int(tree["tcp"]["tcp.srcport"]), int(tree["tcp"]["tcp.dstport"])
            r["tcp_flags"] = int(tree["tcp"]["tcp.flags"], 16) & 0xFF
        elif "udp" in tree:
            r["src_port"], r["dest_port"] = int(tree["udp"]["udp.srcport"]), int(tree["udp"]["udp.dstport"])
        elif "icmp" in tree or "icmpv6" in tree:
            icmp = tree.get("icmp") or tree.get("icmpv6")
            t = int(icmp.get("icmp.type", icmp.get("icmpv6.type", 0)))
            c = int(icmp.get("icmp.code", icmp.get("icmpv6.code", 0)))
            r["dest_port"] = t * 256 + c
        records.append(r)
    return records


# -- nfdump -------------------------------------------------------------------------------------

def nfdump_version():
    out = subprocess.run(["nfdump", "-V"], capture_output=True, text=True).stdout
    return out.strip()


def parse_nfdump_json(text):
    """nfdump 1.7 `-o json` prints objects separated by commas, without brackets."""
    dec, out, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i] in " \t\r\n,[]":
            i += 1
        if i >= len(text):
            return out
        obj, i = dec.raw_decode(text, i)
        out.append(obj)


def _nfdump_time(text):
    """'2026-01-15T12:01:10.001' (nfdump prints local time; it is run with TZ=UTC) -> epoch."""
    day, _, clock = text.partition("T")
    hms, _, ms = clock.partition(".")
    secs = calendar.timegm(time.strptime(day + " " + hms, "%Y-%m-%d %H:%M:%S"))
    return round(secs + int(ms or 0) / 1000.0, 6)


_NFDUMP_FLAGS = {"C": 0x80, "E": 0x40, "U": 0x20, "A": 0x10, "P": 0x08, "R": 0x04, "S": 0x02, "F": 0x01}


def nfdump_records(text):
    """Normalized records from nfdump's JSON of what nfcapd received."""
    records = []
    for o in parse_nfdump_json(text):
        if o.get("type") != "FLOW":
            continue
        flags = 0
        for ch in o.get("tcp_flags", ""):
            flags |= _NFDUMP_FLAGS.get(ch, 0)
        r = {
            "exporter": o.get("ip4_router") or o.get("ip6_router"),
            "observation_domain": None,
            "src_ip": o.get("src4_addr") or o.get("src6_addr"),
            "dest_ip": o.get("dst4_addr") or o.get("dst6_addr"),
            "src_port": int(o.get("src_port", 0)), "dest_port": int(o.get("dst_port", 0)),
            "protocol": int(o["proto"]),
            "bytes": int(o.get("in_bytes", 0)), "packets": int(o.get("in_packets", 0)),
            "bytes_rev": int(o.get("out_bytes", 0)), "packets_rev": int(o.get("out_packets", 0)),
            "start": _nfdump_time(o["first"]), "end": _nfdump_time(o["last"]),
            "tcp_flags": flags if int(o["proto"]) == 6 else None,
            "sampling_rate": None,
        }
        if r["protocol"] in ICMP_PROTOCOLS:
            if "icmp_type" in o:
                r["dest_port"] = int(o["icmp_type"]) * 256 + int(o.get("icmp_code", 0))
            r["src_port"] = 0
        records.append(r)
    return records


# -- stored references --------------------------------------------------------------------------

def load_reference(path):
    """A reference file with each decoder's records turned back into dicts."""
    with open(path) as f:
        doc = json.load(f)
    for decoder in ("tshark", "nfdump"):
        if decoder in doc:
            fields = doc[decoder]["fields"]
            doc[decoder]["records"] = [dict(zip(fields, row)) for row in doc[decoder]["records"]]
    return doc


# -- comparison ---------------------------------------------------------------------------------

def project(record, fields, time_resolution=None):
    """The comparable tuple of a record: chosen fields, times rounded to the resolution."""
    out = []
    for f in fields:
        v = record.get(f)
        if f in ("start", "end") and v is not None and time_resolution:
            v = int(round(v / time_resolution))
        out.append(v)
    return tuple(out)


def multiset_diff(expected, actual, fields, time_resolution=None):
    """(missing, unexpected): records of `expected` not in `actual` and the reverse, as Counters of
    projected tuples. Times are compared after rounding to `time_resolution` seconds."""
    e = collections.Counter(project(r, fields, time_resolution) for r in expected)
    a = collections.Counter(project(r, fields, time_resolution) for r in actual)
    return e - a, a - e


def mask_icmp_ports(records):
    """Copies with ICMP ports blanked: nfdump takes ICMP type/code from IE 32/139 only, while some
    exporters (pmacct v9) put them in the destination port - compare ICMP ports with tshark only."""
    out = []
    for r in records:
        if r["protocol"] in ICMP_PROTOCOLS:
            r = dict(r, src_port=None, dest_port=None)
        out.append(r)
    return out


def time_mismatches(expected, actual, key_fields, tolerance):
    """Pairs records equal on `key_fields` (sorted by start within equal keys) and lists those whose
    start or end differ by more than `tolerance` seconds."""
    groups = collections.defaultdict(lambda: ([], []))
    for r in expected:
        groups[project(r, key_fields)][0].append(r)
    for r in actual:
        groups[project(r, key_fields)][1].append(r)
    bad = []
    for key, (es, acts) in groups.items():
        for e, a in zip(sorted(es, key=lambda r: (r["start"], r["end"])),
                        sorted(acts, key=lambda r: (r["start"], r["end"]))):
            if abs(e["start"] - a["start"]) > tolerance or abs(e["end"] - a["end"]) > tolerance:
                bad.append((dict(zip(key_fields, key)), (e["start"], e["end"]), (a["start"], a["end"])))
    return bad


def format_diff(missing, unexpected, fields, limit=15):
    lines = ["fields: %s" % ", ".join(fields)]
    for title, c in (("in reference, not in ours", missing), ("in ours, not in reference", unexpected)):
        n = sum(c.values())
        if not n:
            continue
        lines.append("%d %s:" % (n, title))
        for rec, count in sorted(c.items(), key=repr)[:limit]:
            lines.append("  %s%s" % ("%dx " % count if count > 1 else "", dict(zip(fields, rec))))
        if len(c) > limit:
            lines.append("  ... %d more" % (len(c) - limit))
    return "\n".join(lines)


# -- our side -----------------------------------------------------------------------------------

def flow_to_record(f):
    """A boundaryflow model.Flow (as decode_capture returns it) in the reference's terms."""
    src_port, dest_port = f.src_port, f.dest_port
    if f.protocol_number in ICMP_PROTOCOLS and getattr(f, "icmp_type", None) is not None:
        src_port, dest_port = 0, f.icmp_type * 256 + (f.icmp_code or 0)
    return {
        "exporter": f.exporter, "observation_domain": f.observation_domain,
        "src_ip": f.src_ip, "dest_ip": f.dest_ip, "src_port": src_port, "dest_port": dest_port,
        "protocol": f.protocol_number, "bytes": f.bytes_out, "packets": f.packets_out,
        "bytes_rev": f.bytes_in, "packets_rev": f.packets_in,
        "start": f.start, "end": f.end, "tcp_flags": f.tcp_flags, "sampling_rate": f.sampling_rate,
    }


def zero_missing_flags(records):
    """tcp_flags None (the export has no flags for this record, e.g. sFlow UDP) compares as 0."""
    return [dict(r, tcp_flags=r["tcp_flags"] or 0) for r in records]
