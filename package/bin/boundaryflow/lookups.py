"""CSV lookups and address-range matching shared by ``enrich`` and ``detect`` (base layer).

``CidrTable`` answers "which row covers this address" by binary search over sorted, non-overlapping
integer ranges (most specific CIDR wins), never a linear scan. Build once, query many times.
"""
from __future__ import annotations

import bisect
import csv
import ipaddress
import os
import socket


class LookupError_(ValueError):
    """A lookup file that cannot be used (named, with the line)."""


def file_stamp(path):
    """What says a file changed (mtime, size, inode: an atomic replace changes the inode even
    within one mtime tick). Raises OSError like os.stat."""
    st = os.stat(path)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def read_lookup(path, required=()):
    """Rows of a CSV lookup with a header. Blank lines and lines starting with '#' are skipped.

    Returns (rows, bad_lines). A missing file returns ([], 0); a missing required column raises."""
    if not path or not os.path.exists(path):
        return [], 0
    with open(path, newline="", encoding="utf-8-sig") as fh:
        lines = [ln for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    reader = csv.DictReader(lines)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise LookupError_("%s: missing column(s) %s (header is %s)" % (path, ", ".join(missing), ",".join(header)))
    rows, bad = [], 0
    for row in reader:
        if None in row:          # more cells than header
            bad += 1
            continue
        rows.append({(k or "").strip(): (v or "").strip() for k, v in row.items()})
    return rows, bad


def parse_network(text):
    """'10.0.0.0/8' or '10.1.2.3' -> ip_network, or None when it is not one."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


class CidrTable(object):
    """Map addresses to values by longest-prefix match over IPv4 and IPv6 CIDRs."""

    def __init__(self, entries=()):
        """entries: iterable of (network or text, value)."""
        nets = []
        for net, value in entries:
            if not isinstance(net, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
                net = parse_network(str(net))
                if net is None:
                    continue
            nets.append((net, value))
        self.size = len(nets)
        self._tables = {4: self._build([n for n in nets if n[0].version == 4]),
                        6: self._build([n for n in nets if n[0].version == 6])}

    @staticmethod
    def _build(nets):
        """Disjoint (lo, hi, value) ranges, most specific CIDR winning, in O(n log n).

        CIDRs either nest or are disjoint, so one sweep in (start, prefix length, input order) with a
        stack of enclosing networks emits each uncovered stretch of an enclosing network as it is left.
        The same network listed twice: the later row wins."""
        items = sorted(((int(n.network_address), int(n.broadcast_address), n.prefixlen, i, v)
                        for i, (n, v) in enumerate(nets)), key=lambda r: (r[0], r[2], r[3]))
        ranges, stack = [], []          # stack entries: [lo, hi, value, next uncovered address]

        def leave_until(limit):
            while stack and stack[-1][1] < limit:
                lo, hi, value, cur = stack.pop()
                if cur <= hi:
                    ranges.append((cur, hi, value))
                if stack:
                    stack[-1][3] = hi + 1

        for lo, hi, _plen, _i, value in items:
            leave_until(lo)
            if stack and stack[-1][0] == lo and stack[-1][1] == hi:
                stack[-1][2] = value
                continue
            if stack:
                top = stack[-1]
                if top[3] < lo:
                    ranges.append((top[3], lo - 1, top[2]))
                top[3] = hi + 1
            stack.append([lo, hi, value, lo])
        leave_until(1 << 129)
        ranges.sort()
        return [r[0] for r in ranges], ranges

    def lookup(self, addr):
        """Value for an address (str or ip_address), or None."""
        if isinstance(addr, str):
            parsed = parse_address(addr)
            return None if parsed is None else self.lookup_int(parsed[1], parsed[0])
        return self.lookup_int(int(addr), addr.version)

    def lookup_int(self, n, version=4):
        """Value for an address given as its integer and IP version, or None: for callers that
        already parsed the address (building an ip_address object costs more than the search)."""
        starts, ranges = self._tables[version]
        i = bisect.bisect_right(starts, n) - 1
        if i >= 0:
            lo, hi, value = ranges[i]
            if lo <= n <= hi:
                return value
        return None

    def __contains__(self, addr):
        return self.lookup(addr) is not None

    def __len__(self):
        return self.size


def load_cidr_lookup(path, value_columns, key_column="cidr"):
    """A CidrTable from a CSV lookup: value = dict of ``value_columns``. Returns (table, bad_rows)."""
    rows, bad = read_lookup(path, required=(key_column,))
    entries = []
    for row in rows:
        net = parse_network(row.get(key_column, ""))
        if net is None:
            bad += 1
            continue
        entries.append((net, {c: row.get(c, "") for c in value_columns}))
    return CidrTable(entries), bad


_inet_pton, _inet_ntoa, _AF_INET = socket.inet_pton, socket.inet_ntoa, socket.AF_INET


def parse_address(ip):
    """(version, integer, packed bytes, canonical text) of an address, or None when it is not one.

    Dotted-quad IPv4 (what decoders emit) is parsed by inet_pton, ~5x cheaper than building an
    ipaddress object; every other spelling, and IPv6, goes through ipaddress, which decides what
    is an address and what its canonical text is."""
    if type(ip) is str and ":" not in ip:
        try:
            packed = _inet_pton(_AF_INET, ip)
        except (OSError, ValueError):
            packed = None
        # inet_pton accepts only a.b.c.d without leading zeros; its text round trip confirms
        # the spelling is canonical, so the text itself is the lookup key
        if packed is not None and _inet_ntoa(packed) == ip:
            return 4, int.from_bytes(packed, "big"), packed, ip
    try:
        addr = ipaddress.ip_address(ip)
    except (ValueError, TypeError):
        return None
    return addr.version, int(addr), addr.packed, str(addr)
