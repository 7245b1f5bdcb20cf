"""MaxMind GeoIP2/GeoLite2 databases (City, Country, ASN) through the ``maxminddb`` reader.

A :class:`GeoDatabase` watches one .mmdb file: ``reload_if_changed()`` reopens it when its
mtime/size/inode change. A missing, unreadable or corrupt file never stops the collector: the
database is simply unused (or the previous good copy stays in use) and ``status`` says why.
"""
from __future__ import annotations

import time

from ..lookups import file_stamp

try:
    import maxminddb
except ImportError:          # enrichment without GeoIP still works
    maxminddb = None

# Addresses probed right after opening: a corrupt search tree or data section usually fails here,
# at load time, instead of on a live lookup.
_PROBES = ("1.1.1.1", "2.125.160.216", "8.8.8.8", "81.2.69.160", "89.160.20.112", "1.128.0.0",
           "2001:4860:4860::8888", "2a02:ff40::1")

KIND_CITY, KIND_ASN = "city", "asn"
MAX_BLOCKS = 65536          # cached /24 answers per database
_MISSING = object()


def open_reader(path, kind, mode=None):
    """Open and validate a database; raises ValueError with a readable reason."""
    if maxminddb is None:
        raise ValueError("the maxminddb package is not installed")
    try:
        reader = maxminddb.open_database(path, maxminddb.MODE_AUTO if mode is None else mode)
        db_type = reader.metadata().database_type
    except FileNotFoundError:
        raise ValueError("file not found")
    except Exception as e:     # the reader raises many types for bad files (IndexError, struct.error...)
        raise ValueError("invalid database (%s: %s)" % (type(e).__name__, e))
    want = ("ASN",) if kind == KIND_ASN else ("City", "Country")
    if not any(w.lower() in db_type.lower() for w in want):
        reader.close()
        raise ValueError("database type %s is not a %s database" % (db_type, "/".join(want)))
    try:
        for ip in _PROBES:
            reader.get(ip)
    except Exception as e:
        reader.close()
        raise ValueError("invalid database (lookup failed: %s: %s)" % (type(e).__name__, e))
    return reader


def city_fields(rec):
    """(country ISO code, city name, lat, lon) from a City/Country record."""
    if not rec:
        return None
    country = rec.get("country") or rec.get("registered_country") or {}
    city = (rec.get("city") or {}).get("names", {}).get("en")
    loc = rec.get("location") or {}
    out = (country.get("iso_code"), city, loc.get("latitude"), loc.get("longitude"))
    return out if any(v is not None for v in out) else None


def asn_fields(rec):
    """(asn, as_org) from an ASN record."""
    if not rec or rec.get("autonomous_system_number") is None:
        return None
    return (rec.get("autonomous_system_number"), rec.get("autonomous_system_organization"))


class GeoDatabase(object):
    """One watched .mmdb file. ``lookup(ip)`` -> tuple of fields or None (never raises)."""

    def __init__(self, path, kind, mode=None):
        self.path = path
        self.kind = kind
        self.mode = mode
        self._reader = None
        self._file_id = None
        self.loaded_at = None
        self.status = "disabled: no database configured" if not path else "not loaded"
        self.lookup_errors = 0
        self._blocks = {}           # "a.b.c" -> fields, for networks of /24 or larger
        self._fields = asn_fields if kind == KIND_ASN else city_fields
        if path:
            self.reload_if_changed()

    @property
    def active(self):
        return self._reader is not None

    def reload_if_changed(self):
        """Reopen when the file changed. Returns True when a new database is in use."""
        if not self.path:
            return False
        try:
            fid = file_stamp(self.path)
        except OSError as e:
            if self._reader is None:
                self.status = "error: %s: %s" % (self.path, "file not found" if isinstance(
                    e, FileNotFoundError) else e.strerror)
            self._file_id = None
            return False
        if fid == self._file_id:
            return False
        self._file_id = fid       # remembered even on failure: retry only when the file changes
        try:
            reader = open_reader(self.path, self.kind, self.mode)
        except ValueError as e:
            keep = " (still using the database loaded at %s)" % _stamp(self.loaded_at) if self._reader else ""
            self.status = "error: %s: %s%s" % (self.path, e, keep)
            return False
        old, self._reader = self._reader, reader
        self._blocks = {}
        if old is not None:
            old.close()
        self.loaded_at = time.time()
        meta = reader.metadata()
        self.status = "ok: %s (%s, built %s)" % (self.path, meta.database_type, _stamp(meta.build_epoch))
        return True

    def lookup(self, ip):
        reader = self._reader
        if reader is None:
            return None
        # Neighbours share records: when the database network holding an IPv4 address is a /24
        # or larger, the whole /24 gets the same answer, so decode it once (the pure-Python
        # reader spends ~50 us decoding a City record).
        block = ip.rpartition(".")[0] if "." in ip and ":" not in ip else None
        if block is not None:
            hit = self._blocks.get(block, _MISSING)
            if hit is not _MISSING:
                return hit
        try:
            rec, prefix_len = reader.get_with_prefix_len(ip)
            fields = self._fields(rec)
        except UnicodeDecodeError as e:     # a ValueError, but it means corrupt strings
            return self._fail(ip, e)
        except ValueError:          # not an IP address (or an IPv6 address in an IPv4-only db)
            return None
        except Exception as e:      # corrupt data the probes missed
            return self._fail(ip, e)
        if block is not None and prefix_len <= 24:
            if len(self._blocks) >= MAX_BLOCKS:
                self._blocks.clear()
            self._blocks[block] = fields
        return fields

    def _fail(self, ip, e):
        # stop using this copy; a new file (changed mtime/size) is tried again on refresh
        self.lookup_errors += 1
        self._reader = None
        self._blocks = {}
        self.status = "error: %s: invalid database (lookup of %s failed: %s: %s)" % (
            self.path, ip, type(e).__name__, e)
        return None

    def close(self):
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def _stamp(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) if epoch else "?"
