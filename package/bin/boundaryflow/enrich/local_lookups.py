"""The CSV lookups in lookups_dir that enrichment reads, each reloaded when its file changes.

- boundaryflow_assets.csv     cidr,role,zone,name,tier,link_bps    -> CidrTable of asset dicts
- boundaryflow_identity.csv   ip,user,start,end                    -> TimedTable of users
- boundaryflow_jobs.csv       ip,job,namespace,start,end           -> TimedTable of (job, namespace)
"""
from __future__ import annotations

import os

from ..lookups import CidrTable, LookupError_, file_stamp, load_cidr_lookup, read_lookup
from .timed import TimedTable, load_timed_lookup

ASSETS = "boundaryflow_assets.csv"
IDENTITY = "boundaryflow_identity.csv"
JOBS = "boundaryflow_jobs.csv"
ASSET_COLUMNS = ("role", "zone", "name", "tier", "link_bps")


def load_assets(path):
    return load_cidr_lookup(path, ASSET_COLUMNS)


def identity_rows(rows):
    return load_timed_lookup(rows, lambda r: r.get("user") or None)


def load_identity(path):
    rows, bad = read_lookup(path, required=("ip", "user"))
    table, bad2 = identity_rows(rows)
    return table, bad + bad2


def load_jobs(path):
    rows, bad = read_lookup(path, required=("ip", "job"))
    table, bad2 = load_timed_lookup(rows, lambda r: (r["job"], r.get("namespace") or None) if r.get("job") else None)
    return table, bad + bad2


_EMPTY = {ASSETS: CidrTable, IDENTITY: TimedTable, JOBS: TimedTable}
_LOADERS = {ASSETS: load_assets, IDENTITY: load_identity, JOBS: load_jobs}


class WatchedLookup(object):
    """One lookup file; ``table`` is empty while the file is absent or unusable."""

    def __init__(self, lookups_dir, name):
        self.name = name
        self.path = os.path.join(lookups_dir, name)
        self.table = _EMPTY[name]()
        self.bad_rows = 0
        self.status = "not loaded"
        self._file_id = False

    def reload_if_changed(self):
        """Returns True when ``table`` was replaced."""
        try:
            fid = file_stamp(self.path)
        except OSError:
            fid = None
        if fid == self._file_id:
            return False
        self._file_id = fid
        if fid is None:
            self.status = "absent: %s" % self.path
            self.table, self.bad_rows = _EMPTY[self.name](), 0
            return True
        try:
            table, bad = _LOADERS[self.name](self.path)
        except (LookupError_, OSError, UnicodeDecodeError, ValueError) as e:
            self.status = "error: %s (keeping the previous table)" % e
            return False
        self.table, self.bad_rows = table, bad
        self.status = "ok: %d rows from %s%s" % (len(table), self.path, ", %d bad rows" % bad if bad else "")
        return True
