"""KV store collections pulled from a Splunk search head's REST API (a heavy forwarder has no ES).

- Enterprise Security's threat intel ``ip_intel`` (app SA-ThreatIntelligence): records carry
  ``ip`` (an address, a CIDR or a ``first-last`` range), ``threat_key`` (the intel source),
  ``description``, ``weight``, ``disabled`` and ``_key``. Each becomes a threat indicator with
  source = threat_key and category = description, merged with the other threat sources
  (``ThreatIntel.extra_sources``) so a match sets threat_match/source/category exactly like the
  CSV threat lookup does. ``weight`` (ES's confidence) is kept on the mapped entry; flow events
  have no field for it.
- An identity map: records ``ip, user, start, end`` (as boundaryflow_identity.csv) become
  time-valid address -> user intervals. ``APP/NAME.csv`` names a CSV lookup instead of a
  collection (the one the shipped identity saved search writes); it is read with a
  ``| inputlookup`` export search, because splunkd serves lookup files' contents only that way.

A collection: ``GET {splunk_rest_url}/servicesNS/nobody/{app}/storage/collections/data/{collection}``
with ``output_mode=json``, paged by ``limit``/``skip`` (sorted by ``_key`` so pages don't shift),
``Authorization: Bearer <token>`` (a Splunk authentication token), or ``Splunk <session key>`` /
``Basic <credentials>`` when the secret is given with that prefix. The secret comes from the environment variable
``splunk_rest_token_env`` at each poll and never appears in health, logs or exceptions. TLS is
verified (``ca_bundle`` trusts a private CA). A poll whose content did not change leaves every
table alone; a failed poll keeps the last good data, says why in health and retries sooner.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import os
from urllib.parse import quote

from ..lookups import parse_network
from . import http
from .local_lookups import identity_rows
from .timed import TimedTable

THREAT, IDENTITY = "threat", "identity"
PAGE_SIZE = 10000       # below limits.conf max_rows_per_query (50000), which would cut pages short
MAX_PAGES = 500         # 5 million records per poll at most
RETRY_AFTER_FAILURE = 300.0
DEFAULT_SOURCE = "ip_intel"
_HINTS = {401: "the token was refused (check the search-head REST account)",
          403: "the account's role cannot read this collection (grant read access in its app's permissions)",
          404: "no such app or collection on the search head"}


# -- record mapping (pure) ----------------------------------------------------------------------
def parse_indicator(text):
    """'198.51.100.7', '198.51.100.0/24' or '198.51.100.1-198.51.100.20' -> [networks]; [] if bad."""
    text = (text or "").strip()
    if "-" in text and "/" not in text:
        first, _, last = text.partition("-")
        try:
            a, b = ipaddress.ip_address(first.strip()), ipaddress.ip_address(last.strip())
            return list(ipaddress.summarize_address_range(a, b))
        except (ValueError, TypeError):      # bad address, mixed versions or last < first
            return []
    net = parse_network(text) if text else None
    return [net] if net is not None else []


def threat_entries(records, default_source=DEFAULT_SOURCE):
    """ip_intel records -> ([(network, source, category, confidence)], bad, skipped).

    Disabled records and records without an ``ip`` (ES keeps domain-only rows in ip_intel too)
    are skipped; an ``ip`` that is no address, CIDR or range is bad."""
    out, bad, skipped = [], 0, 0
    for r in records:
        if not isinstance(r, dict):
            bad += 1
            continue
        ip = _text(r.get("ip"))
        if _true(r.get("disabled")) or not ip:
            skipped += 1
            continue
        nets = parse_indicator(ip)
        if not nets:
            bad += 1
            continue
        source = _text(r.get("threat_key")) or default_source
        category = _text(r.get("description")) or None
        confidence = _number(r.get("weight"))
        out.extend((net, source, category, confidence) for net in nets)
    return out, bad, skipped


def identity_table(records):
    """Identity records (ip, user, start, end) -> (TimedTable, bad) with the CSV's rules."""
    rows = [{k: _text(v) for k, v in r.items()} for r in records if isinstance(r, dict)]
    table, bad = identity_rows(rows)
    return table, bad + (len(records) - len(rows))


def _text(value):
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)          # 1767600000.0 -> "1767600000"
    return str(value).strip()


def _true(value):
    return value is True or _text(value).lower() in ("1", "true", "t", "yes")


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# -- the poller ---------------------------------------------------------------------------------
class SplunkRestError(Exception):
    """An HTTP error from splunkd, with the text of its messages (never the request headers)."""


class KvCollection(object):
    """One collection (or lookup) on the search head; ``refresh(now)`` polls it when due.

    After a changed poll: ``entries`` [(network, source, category)] for threat intel, ``table``
    (TimedTable) for identity."""

    def __init__(self, cfg, spec, kind):
        en = cfg.enrichment
        self.name = spec
        self.kind = kind
        self.app, self.collection = spec.split("/", 1)
        self.base = en.splunk_rest_url.rstrip("/")
        self.token_env = en.splunk_rest_token_env
        self.interval = en.kv_poll_interval
        self.verify = http.verify_setting(cfg, True)
        self.is_lookup = self.collection.lower().endswith(".csv")
        self.next_due = 0.0
        self.status = "not polled yet"
        self.records = self.indicators = self.bad = self.skipped = 0
        self.polls = self.unchanged = self.failures = 0
        self.entries = []
        self.table = TimedTable()
        self._digest = None
        self._session = None

    def due(self, now):
        return now >= self.next_due

    def refresh(self, now):
        """Poll once. Returns True when the collection's content changed."""
        self.next_due = now + self.interval
        token = os.environ.get(self.token_env) if self.token_env else None
        try:
            if not token:
                raise RuntimeError("environment variable %s (splunk_rest_token_env) is not set" % self.token_env)
            records = self._fetch(_auth_header(token))
        except Exception as e:           # never fatal: keep the last good data
            self.failures += 1
            self.next_due = now + min(self.interval, RETRY_AFTER_FAILURE)
            why = str(e) if isinstance(e, (SplunkRestError, RuntimeError, ValueError)) else http.describe_error(e)
            keep = " (keeping %d records from the last good poll)" % self.records if self._digest else ""
            self.status = _redact("error: %s: %s%s" % (self._where(), why, keep), token)
            return False
        self.polls += 1
        digest = hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()
        if digest == self._digest:
            self.unchanged += 1
            self.status = self._ok()       # (again, after a failed poll)
            return False
        self._apply(records)
        self._digest = digest
        self.status = self._ok()
        return True

    def _apply(self, records):
        self.records = len(records)
        if self.kind == THREAT:
            found, self.bad, self.skipped = threat_entries(records)
            self.entries = [(net, source, category) for net, source, category, _conf in found]
            self.indicators = len(found)
        else:
            self.table, self.bad = identity_table(records)
            self.skipped, self.indicators = 0, len(self.table)

    def _ok(self):
        what = "indicators" if self.kind == THREAT else "identity intervals"
        return "ok: %d records, %d %s from %s%s%s" % (
            self.records, self.indicators, what, self._where(),
            ", %d bad" % self.bad if self.bad else "", ", %d skipped" % self.skipped if self.skipped else "")

    def _where(self):
        return "%s %s/%s" % (self.base, self.app, self.collection)

    def _fetch(self, auth):
        if self._session is None:
            self._session = http.session(self.verify)
        headers = {"Authorization": auth, "Accept": "application/json"}
        return self._fetch_lookup(headers) if self.is_lookup else self._fetch_collection(headers)

    def _fetch_collection(self, headers):
        url = "%s/servicesNS/nobody/%s/storage/collections/data/%s" % (
            self.base, quote(self.app, safe=""), quote(self.collection, safe=""))
        out = []
        for _page in range(MAX_PAGES):
            params = {"output_mode": "json", "limit": str(PAGE_SIZE), "skip": str(len(out)), "sort": "_key"}
            resp = self._session.get(url, headers=headers, params=params, timeout=http.TIMEOUT)
            _check(resp, url)
            page = resp.json()
            if not isinstance(page, list):
                raise ValueError("expected a JSON array of records from %s" % url)
            out.extend(page)
            if len(page) < PAGE_SIZE:
                return out
        raise ValueError("more than %d records in %s/%s" % (MAX_PAGES * PAGE_SIZE, self.app, self.collection))

    def _fetch_lookup(self, headers):
        # export streams one JSON object per line: {"preview": false, "result": {...}} or messages
        url = "%s/servicesNS/nobody/%s/search/v2/jobs/export" % (self.base, quote(self.app, safe=""))
        resp = self._session.post(url, headers=headers, timeout=http.TIMEOUT, data={
            "search": "| inputlookup %s" % self.collection, "output_mode": "json"})
        _check(resp, url)
        out = []
        for line in resp.text.splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            errors = [m.get("text", "") for m in obj.get("messages") or () if m.get("type") in ("ERROR", "FATAL")]
            if errors:
                raise SplunkRestError("search failed: %s" % "; ".join(errors))
            if "result" in obj and not obj.get("preview"):
                out.append(obj["result"])
        return out


def _auth_header(secret):
    """A Splunk authentication token -> Bearer; a value given as 'Splunk <key>' is a session key,
    'Basic <base64 user:password>' a user's password (the add-on's helper builds that one)."""
    secret = secret.strip()
    if secret.startswith(("Splunk ", "Bearer ", "Basic ")):
        return secret
    return "Bearer " + secret


def _check(resp, url):
    if resp.status_code < 400:
        return
    try:
        texts = [m.get("text", "") for m in resp.json().get("messages") or ()]
    except (ValueError, AttributeError):
        texts = []
    hint = _HINTS.get(resp.status_code)
    raise SplunkRestError("HTTP %d from %s%s%s" % (
        resp.status_code, url, ": " + "; ".join(t for t in texts if t)[:300] if any(texts) else "",
        " - " + hint if hint else ""))


def _redact(text, secret):
    if secret:
        for s in {secret, secret.strip(), secret.strip().split(" ", 1)[-1]}:
            if s:
                text = text.replace(s, "***")
    return text


def configured_collections(cfg):
    """The collections to poll: none unless [enrichment] splunk_rest_url is set."""
    en = cfg.enrichment
    if not en.splunk_rest_url:
        return []
    out = []
    if en.kv_ip_intel:
        out.append(KvCollection(cfg, en.kv_ip_intel, THREAT))
    if en.kv_identity:
        out.append(KvCollection(cfg, en.kv_identity, IDENTITY))
    return out
