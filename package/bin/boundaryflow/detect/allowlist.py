"""A CIDR allowlist lookup (``cidr,description``) that reloads itself when its file changes."""
from __future__ import annotations

import os

from ..lookups import LookupError_, load_cidr_lookup, CidrTable, file_stamp

EGRESS = "boundaryflow_egress_allowlist.csv"
INFERENCE = "boundaryflow_inference_allowlist.csv"
MANAGEMENT = "boundaryflow_management_allowlist.csv"

_CACHE_CAP = 65536


class Allowlist(object):
    """``match(addr)`` -> the matching row ({cidr, description}) or None; answers are cached per
    address (a CidrTable lookup parses the address, ~1 µs) until the file changes."""

    def __init__(self, lookups_dir, filename):
        self.filename = filename
        self.path = os.path.join(lookups_dir, filename) if lookups_dir else None
        self.table = CidrTable()
        self.bad_rows = 0
        self.loaded = False
        self.error = None
        self.reloads = 0
        self._stamp = None
        self._cache = {}
        self.refresh()

    def refresh(self):
        """Reload when the file changed (mtime, size or inode); a missing file is an empty list.
        A broken file keeps the previous table and reports the error in health."""
        try:
            stamp = file_stamp(self.path) if self.path else None
        except OSError:
            stamp = None
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        if stamp is None:
            table, bad, loaded = CidrTable(), 0, False
        else:
            try:
                table, bad = load_cidr_lookup(self.path, ("cidr", "description"))
            except (LookupError_, OSError, UnicodeDecodeError) as e:
                self.error = str(e)
                return False
            loaded = True
        self.table, self.bad_rows, self.loaded, self.error = table, bad, loaded, None
        self._cache = {}
        self.reloads += 1
        return True

    def match(self, addr):
        cache = self._cache
        try:
            return cache[addr]
        except KeyError:
            pass
        row = self.table.lookup(addr) if addr else None
        if len(cache) >= _CACHE_CAP:
            cache.clear()
        cache[addr] = row
        return row

    def evidence(self, row):
        """What the analyst sees: which file was consulted and whether (and how) it matched."""
        ev = {"file": self.filename, "matched": row is not None}
        if row is not None:
            ev["cidr"] = row.get("cidr", "")
            ev["description"] = row.get("description", "")
        return ev

    def health(self):
        return {"file": self.filename, "loaded": self.loaded, "entries": len(self.table),
                "bad_rows": self.bad_rows, "reloads": self.reloads, "error": self.error}
