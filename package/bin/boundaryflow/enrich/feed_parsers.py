"""Threat-intel feed formats SOC teams use, parsed into (network, note) indicators.

Every parser takes the feed text and returns ``ParseResult(indicators, bad_lines, skipped)``: a
malformed line is counted, never fatal. Indicators are ``ipaddress`` networks (a single address
is a /32 or /128).

- iplist: one IP or CIDR per line; '#' or ';' start comments (Spamhaus DROP:
  ``1.10.16.0/20 ; SBL256894``), and anything after the first whitespace is ignored.
- csv: one column holds the indicator; leading '#' lines are comments, except that the last of
  them may be the header (abuse.ch exports ``# "first_seen_utc","dst_ip",...``).
- stix: a STIX 2.1 bundle (or a list of objects); indicators with ``pattern_type`` stix whose
  pattern is only ipv4-addr/ipv6-addr value comparisons (``=`` or ``ISSUBSET``) joined by OR.
  Patterns that AND an address with other conditions are skipped: matching the address alone
  would over-match. Revoked and expired (``valid_until`` past) indicators are skipped.
"""
from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
import time
from collections import namedtuple

from .timed import parse_time

ParseResult = namedtuple("ParseResult", "indicators bad_lines skipped")


_HOST_PORT = re.compile(r"^(?:(\d+\.\d+\.\d+\.\d+)|\[([0-9A-Fa-f:.]+)\]):\d+$")


def _network(text):
    """IP, CIDR, or 'ip:port' / '[ipv6]:port' (ThreatFox style) -> ip_network, else None."""
    t = text.strip().strip('"').strip("'")
    m = _HOST_PORT.match(t)
    if m:
        t = m.group(1) or m.group(2)
    try:
        return ipaddress.ip_network(t, strict=False)
    except ValueError:
        return None


def parse_iplist(text):
    out, bad = [], 0
    for line in text.splitlines():
        body = re.split(r"[#;]", line, maxsplit=1)[0].strip()
        if not body:
            continue
        net = _network(body.split()[0].rstrip(","))
        if net is None:
            bad += 1
            continue
        note = line.split(";", 1)[1].strip() if ";" in line else None
        out.append((net, note))
    return ParseResult(out, bad, 0)


def parse_csv(text, column):
    """``column``: header name (case-insensitive) or a 1-based number for header-less files."""
    lines = text.splitlines()
    comments = []
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("#")):
        comments.append(lines.pop(0))
    body = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    out, bad = [], 0
    if column.isdigit():
        idx, rows = int(column) - 1, csv.reader(body)
    else:
        header = None
        # abuse.ch puts the header in the last comment line; otherwise it is the first line
        for cand in reversed(comments):
            cells = [c.strip().strip('"').lower() for c in next(csv.reader([cand.lstrip("# ")]), [])]
            if column.lower() in cells:
                header = cells
                break
            if cand.strip("# \t"):
                break
        rows = csv.reader(body)
        if header is None:
            first = next(rows, None)
            header = [c.strip().strip('"').lower() for c in (first or [])]
        if column.lower() not in header:
            raise ValueError("column %r not in the CSV header (%s)" % (column, ",".join(header)))
        idx = header.index(column.lower())
    for cells in rows:
        net = _network(cells[idx]) if idx < len(cells) else None
        if net is None:
            bad += 1
            continue
        out.append((net, None))
    return ParseResult(out, bad, 0)


_COMPARISON = re.compile(
    r"(ipv4-addr|ipv6-addr):value\s*(=|ISSUBSET)\s*'((?:[^'\\]|\\.)*)'", re.IGNORECASE)
# what remains of a pattern once its address comparisons are removed: brackets, OR and spaces
_ONLY_OR = re.compile(r"^[\s\[\]()]*(?:OR[\s\[\]()]*)*$", re.IGNORECASE)


def stix_pattern_networks(pattern):
    """Networks an indicator pattern matches, or None when it is not a pure address pattern.

    Raises ValueError for an address comparison whose value is not an address of its type."""
    nets = []
    for m in _COMPARISON.finditer(pattern):
        net = _network(m.group(3))
        if net is None or (net.version == 4) != (m.group(1).lower() == "ipv4-addr"):
            raise ValueError("bad address %r in pattern" % m.group(3))
        nets.append(net)
    if not nets or not _ONLY_OR.match(_COMPARISON.sub(" ", pattern)):
        return None
    return nets


def parse_stix(text, now=None):
    """A STIX 2.1 bundle (JSON text) or an already-parsed object list."""
    if isinstance(text, (bytes, str)):
        doc = json.loads(text)
    else:
        doc = text
    objects = doc.get("objects", []) if isinstance(doc, dict) else doc
    return stix_indicators(objects, now)


def stix_indicators(objects, now=None):
    now = time.time() if now is None else now
    out, bad, skipped = [], 0, 0
    for obj in objects or ():
        if not isinstance(obj, dict) or obj.get("type") != "indicator":
            continue
        if obj.get("revoked") or obj.get("pattern_type", "stix") != "stix":
            skipped += 1
            continue
        try:
            until = parse_time(obj.get("valid_until"))
        except ValueError:
            until = None
        if until is not None and until < now:
            skipped += 1
            continue
        try:
            nets = stix_pattern_networks(obj.get("pattern") or "")
        except ValueError:
            bad += 1
            continue
        if nets is None:        # about other observables (domains, hashes) or AND'ed conditions
            skipped += 1
            continue
        types = obj.get("indicator_types") or obj.get("labels") or []
        note = obj.get("name") or (types[0] if types else None)
        for net in nets:
            out.append((net, note))
    return ParseResult(out, bad, skipped)


def parse_feed(fmt, text, column=""):
    if fmt == "iplist":
        return parse_iplist(text)
    if fmt == "csv":
        return parse_csv(text, column)
    if fmt == "stix":
        return parse_stix(text)
    raise ValueError("format %r is fetched by its own client, not parsed from text" % fmt)


def decode_body(data):
    """Feed bytes -> text (UTF-8 with BOM tolerated; undecodable bytes replaced, then counted bad)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", errors="replace").read()
