"""Threat intelligence: configured feeds ([threat_feed:NAME]) plus boundaryflow_threat_intel.csv.

Each :class:`Feed` refreshes on its own interval: a file when its mtime/size change, an https URL
with a conditional GET (ETag / Last-Modified), a TAXII 2.1 collection in full. A failed refresh
keeps the indicators from the last good one. :class:`ThreatIntel` merges everything into one
``lookups.CidrTable`` (longest prefix wins; several sources of the same network are joined).
"""
from __future__ import annotations

import os
import threading

from ..lookups import CidrTable, LookupError_, file_stamp, parse_network, read_lookup
from . import http
from .feed_parsers import decode_body, parse_feed
from .taxii import fetch_taxii

LOOKUP_NAME = "boundaryflow_threat_intel.csv"
RETRY_AFTER_FAILURE = 300.0     # a failed fetch is retried sooner than the feed's interval


class _BearerAuth(object):
    """requests auth hook: Authorization: Bearer <token> (token read from the env var at use)."""

    def __init__(self, token):
        self.token = token

    def __call__(self, r):
        r.headers["Authorization"] = "Bearer " + self.token
        return r


class Feed(object):
    """One configured feed and its last good indicators."""

    def __init__(self, section, cfg):
        self.name = section.name
        self.url = section.url
        self.format = section.format
        self.column = section.column
        self.collection = section.collection
        self.interval = section.interval
        self.category = section.category or None
        self.token_env = section.token_env
        self.verify = http.verify_setting(cfg, section.verify_tls)
        self.is_remote = "://" in self.url or self.format == "taxii"
        self.indicators = []
        self.bad_lines = 0
        self.skipped = 0
        self.status = "not loaded"
        self.next_due = 0.0
        self.etag = self.last_modified = None
        self._file_id = None
        self._session = None
        self.fetches = self.not_modified = self.failures = 0

    def due(self, now):
        # a file is cheap to check (mtime/size) on every refresh; a server only on its interval
        return not self.is_remote or now >= self.next_due

    def refresh(self, now):
        """Fetch/reload when due. Returns True when the indicator set changed."""
        if not self.due(now):
            return False
        self.next_due = now + self.interval
        try:
            result = self._fetch()
        except http.NotModified:
            self.not_modified += 1
            return False
        except Exception as e:
            self.failures += 1
            self.next_due = now + min(self.interval, RETRY_AFTER_FAILURE)
            keep = " (keeping %d indicators from the last good refresh)" % len(self.indicators) \
                if self.indicators else ""
            self.status = "error: %s: %s%s" % (self._where(), http.describe_error(e), keep)
            return False
        if result is None:            # file unchanged
            return False
        self.fetches += 1
        self.indicators = result.indicators
        self.bad_lines, self.skipped = result.bad_lines, result.skipped
        self.status = "ok: %d indicators from %s%s" % (
            len(self.indicators), self._where(),
            ", %d bad lines" % self.bad_lines if self.bad_lines else "")
        if self.verify is False:
            self.status += " (TLS verification off)"
        return True

    def _where(self):
        return self.url + (" collection %s" % self.collection if self.format == "taxii" else "")

    def _auth(self):
        if not self.token_env:
            return None
        token = os.environ.get(self.token_env)
        if not token:
            raise RuntimeError("environment variable %s (token_env) is not set" % self.token_env)
        return _BearerAuth(token)

    def _fetch(self):
        if self.format == "taxii":
            return fetch_taxii(self.url, self.collection, self.verify, auth=self._auth())
        if self.is_remote:
            if self._session is None:
                self._session = http.session(self.verify)
            self._session.auth = self._auth()
            body, self.etag, self.last_modified = _keep(http.conditional_get(
                self._session, self.url, self.etag, self.last_modified), self.etag, self.last_modified)
        else:
            fid = file_stamp(self.url)
            if fid == self._file_id:
                return None
            with open(self.url, "rb") as fh:
                body = fh.read()
            self._file_id = fid
        return parse_feed(self.format, decode_body(body), self.column)


def _keep(got, etag, last_modified):
    body, new_etag, new_lm = got
    return body, new_etag or None, new_lm or None


class ThreatIntel(object):
    """All feeds + the lookup, as one CidrTable of (match source, category)."""

    def __init__(self, cfg):
        self.lookup_path = os.path.join(cfg.enrichment.lookups_dir, LOOKUP_NAME)
        self.feeds = [Feed(sec, cfg) for _n, sec in sorted(cfg.feeds.items())]
        self.extra_sources = []          # others with .entries [(net, source, category)] (KV store)
        self.table = CidrTable()
        self._rebuild_lock = threading.Lock()
        self.lookup_status = "not loaded"
        self.lookup_bad = 0
        self._lookup_id = False          # never looked
        self._lookup_entries = []

    def refresh_local(self, now):
        """Reload the lookup and file feeds when changed; rebuild the table if anything did."""
        changed = self._reload_lookup()
        for feed in self.feeds:
            if not feed.is_remote:
                changed = feed.refresh(now) or changed
        if changed:
            self.rebuild()
        return changed

    def remote_due(self, now):
        """Remote feeds due for a refresh (run them, then call rebuild())."""
        return [f for f in self.feeds if f.is_remote and f.due(now)]

    def lookup(self, ip):
        """(source, category) for an address, or None."""
        return self.table.lookup(ip)

    def lookup_int(self, n, version=4):
        """:meth:`lookup` for an address already parsed to its integer and IP version."""
        return self.table.lookup_int(n, version)

    def _reload_lookup(self):
        try:
            fid = file_stamp(self.lookup_path)
        except OSError:
            fid = None
        if fid == self._lookup_id:
            return False
        self._lookup_id = fid
        if fid is None:
            self.lookup_status = "absent: %s" % self.lookup_path
            changed = bool(self._lookup_entries)
            self._lookup_entries = []
            return changed
        try:
            rows, bad = read_lookup(self.lookup_path, required=("indicator",))
        except (LookupError_, OSError, UnicodeDecodeError) as e:
            self.lookup_status = "error: %s" % e
            return False
        entries = []
        for row in rows:
            net = parse_network(row.get("indicator", ""))
            if net is None:
                bad += 1
                continue
            entries.append((net, row.get("source") or "lookup", row.get("category") or None))
        self._lookup_entries = entries
        self.lookup_bad = bad
        self.lookup_status = "ok: %d indicators from %s%s" % (
            len(entries), self.lookup_path, ", %d bad lines" % bad if bad else "")
        return True

    def rebuild(self):
        """Build a new table from the current indicators and swap it in. Runs in the refresh
        thread after remote feeds change (building from many thousand CIDRs takes a while);
        the lock makes the last of two concurrent rebuilds see every source's newest data."""
        with self._rebuild_lock:
            self.table = self._build()

    def _build(self):
        merged = {}
        for net, source, category in self._lookup_entries:
            _merge(merged, net, source, category)
        for feed in self.feeds:
            for net, _note in feed.indicators:
                _merge(merged, net, feed.name, feed.category)
        for extra in self.extra_sources:
            for net, source, category in extra.entries:
                _merge(merged, net, source, category)
        return CidrTable((net, (",".join(srcs), ",".join(cats) or None)) for net, (srcs, cats) in merged.items())

    def health(self):
        out = {"threat_lookup": self.lookup_status, "threat_indicators": len(self.table)}
        for feed in self.feeds:
            out["threat_feed:" + feed.name] = feed.status
        return out


def _merge(merged, net, source, category):
    srcs, cats = merged.setdefault(net, ([], []))
    if source not in srcs:
        srcs.append(source)
    if category and category not in cats:
        cats.append(category)
