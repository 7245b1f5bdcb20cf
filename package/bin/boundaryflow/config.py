"""The validated settings every layer reads (DESIGN.md §5).

One model, two sources: a standalone INI file (``load_file``) or a mapping of
``{section: {key: text}}`` built by the Splunk helper from UCC settings (``from_mapping``).
Every value is parsed and checked here, at start; a bad key or value raises :class:`ConfigError`
naming ``[section] key`` and saying how to fix it. Layers then read typed attributes, e.g.
``cfg.detection.exfil_burst_bytes`` (int bytes) or ``cfg.collector.template_ttl`` (float seconds).

To add a key: add one row to ``SCHEMA`` (section, key, parser, default, help).
"""
from __future__ import annotations

import configparser
import difflib
import ipaddress
import os
import re


class ConfigError(ValueError):
    """A configuration problem; the message names the key and the fix."""


# -- value parsers: text -> typed value, raising ValueError with a short reason -------------------

_SIZE_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3, "tb": 1000 ** 4,
               "kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3, "tib": 1024 ** 4}
_DURATION_UNITS = {"": 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_NUM_UNIT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_size(text):
    """'512MiB', '1GiB', '64KB', '1048576' -> bytes (int)."""
    m = _NUM_UNIT.match(text)
    unit = m.group(2).lower() if m else None
    if not m or unit not in _SIZE_UNITS:
        raise ValueError("expected a size like 512MiB, 1GiB or a number of bytes, got %r" % text)
    return int(float(m.group(1)) * _SIZE_UNITS[unit])


def parse_duration(text):
    """'30s', '5m', '4h', '7d', '250ms', '60' (seconds) -> seconds (float)."""
    m = _NUM_UNIT.match(text)
    unit = m.group(2).lower() if m else None
    if not m or unit not in _DURATION_UNITS:
        raise ValueError("expected a duration like 30s, 5m, 4h or 7d, got %r" % text)
    return float(m.group(1)) * _DURATION_UNITS[unit]


def parse_int(lo=None, hi=None):
    def parse(text):
        try:
            v = int(text.strip())
        except ValueError:
            raise ValueError("expected a whole number, got %r" % text)
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise ValueError("expected a number from %s to %s, got %s" % (lo, hi, v))
        return v
    return parse


def parse_float(lo=None):
    def parse(text):
        try:
            v = float(text.strip())
        except ValueError:
            raise ValueError("expected a number, got %r" % text)
        if lo is not None and v < lo:
            raise ValueError("expected a number >= %s, got %s" % (lo, v))
        return v
    return parse


def parse_bool(text):
    t = text.strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true or false, got %r" % text)


def parse_choice(*choices):
    def parse(text):
        t = text.strip().lower()
        if t not in choices:
            raise ValueError("expected one of %s, got %r" % (", ".join(choices), text))
        return t
    return parse


def _split(text):
    return [p.strip() for p in re.split(r"[,\s]+", text) if p.strip()]


def parse_cidrs(text):
    """'10.0.0.0/8, fc00::/7, 192.0.2.1' -> list of ip_network (strict=False)."""
    out = []
    for item in _split(text):
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError("%r is not an IP address or CIDR (e.g. 10.0.0.0/8)" % item)
    return out


def parse_listen(text):
    """'0.0.0.0:2055,[::]:4739,6343' -> [(host, port)]."""
    out = []
    for item in _split(text):
        m = re.match(r"^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)|([A-Za-z0-9.-]+))?:?([0-9]+)$", item)
        if not m:
            raise ValueError("%r is not HOST:PORT (e.g. 0.0.0.0:2055 or [::]:4739)" % item)
        host = m.group(1) or m.group(2) or m.group(3) or "0.0.0.0"
        port = int(m.group(4))
        if not 1 <= port <= 65535:
            raise ValueError("port %d in %r is out of range 1-65535" % (port, item))
        if m.group(1) or m.group(2):
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise ValueError("%r in %r is not an IP address" % (host, item))
        out.append((host, port))
    if not out:
        raise ValueError("give at least one HOST:PORT")
    return out


def parse_ports(text):
    ports = []
    for item in _split(text):
        if not item.isdigit() or not 0 < int(item) <= 65535:
            raise ValueError("%r is not a port number 1-65535" % item)
        ports.append(int(item))
    return frozenset(ports)


_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def parse_hours(text):
    """'Mon-Fri 07:00-19:00; Sat,Sun 10:00-14:00' -> [(frozenset(weekdays 0=Mon), start_min, end_min)].

    An end before the start wraps past midnight (e.g. 'Mon-Sun 22:00-06:00')."""
    items = []
    for part in [p.strip() for p in text.split(";") if p.strip()]:
        m = re.match(r"^([A-Za-z,\- ]+?)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$", part)
        if not m:
            raise ValueError("%r is not like 'Mon-Fri 07:00-19:00'" % part)
        days = set()
        for spec in m.group(1).replace(" ", "").lower().split(","):
            ends = spec.split("-")
            if any(e[:3] not in _DAYS or len(e) < 3 for e in ends) or len(ends) > 2:
                raise ValueError("%r: day names are Mon Tue Wed Thu Fri Sat Sun" % part)
            a, b = _DAYS.index(ends[0][:3]), _DAYS.index(ends[-1][:3])
            i = a
            while True:
                days.add(i)
                if i == b:
                    break
                i = (i + 1) % 7
        h1, m1, h2, m2 = (int(m.group(i)) for i in (2, 3, 4, 5))
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError("%r: times are HH:MM from 00:00 to 24:00" % part)
        items.append((frozenset(days), h1 * 60 + m1, h2 * 60 + m2))
    return items


def parse_timezone(text):
    name = text.strip() or "UTC"
    try:
        from zoneinfo import ZoneInfo
        ZoneInfo(name)
    except Exception:
        raise ValueError("%r is not an IANA time zone name (e.g. UTC, Europe/Berlin)" % name)
    return name


def parse_text(text):
    return text.strip()


def parse_path(text):
    # resolved against the config file's directory by _resolve_paths
    return text.strip()


def parse_env_name(text):
    t = text.strip()
    if t and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", t):
        raise ValueError("%r is not an environment variable name; secrets never go in the file" % t)
    return t


def parse_https_url(text):
    t = text.strip().rstrip("/")
    if t and not re.match(r"^https://[^/\s]+(/\S*)?$", t):
        raise ValueError("%r: use an https:// URL (credentials are never sent in clear text)" % t)
    return t


def parse_app_object(text):
    t = text.strip().strip("/")
    if t and not re.match(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", t):
        raise ValueError("%r: expected APP/NAME, e.g. SA-ThreatIntelligence/ip_intel" % t)
    return t


# -- the schema ---------------------------------------------------------------------------------
# (section, key, parser, default text, help)
SCHEMA = [
    ("collector", "listen", parse_listen, "0.0.0.0:2055,0.0.0.0:4739,0.0.0.0:6343",
     "UDP HOST:PORT list; NetFlow/IPFIX/sFlow detected per datagram"),
    ("collector", "exporters", parse_cidrs, "", "exporter allowlist (CIDRs); empty accepts any"),
    ("collector", "workers", parse_int(1, 64), "1", "worker processes sharing the ports (SO_REUSEPORT)"),
    ("collector", "template_ttl", parse_duration, "30m", "forget a template not refreshed for this long"),
    ("collector", "active_timeout", parse_duration, "30m", "exporters' active timeout (long-lived flows)"),
    ("collector", "inactive_timeout", parse_duration, "15s", "exporters' inactive timeout"),
    ("collector", "max_lateness", parse_duration, "10m", "records later than this are late_records"),
    ("collector", "state_dir", parse_path, "./state", "templates, detector state, spool"),
    ("collector", "receive_buffer", parse_size, "32MiB", "socket receive buffer (SO_RCVBUF)"),
    ("collector", "health_interval", parse_duration, "60s", "how often boundaryflow:health is written"),
    ("collector", "max_exporters", parse_int(1, 1000000), "4096", "exporters tracked at once"),
    ("collector", "max_templates", parse_int(1, 100000), "1024", "templates kept per exporter"),
    ("collector", "max_pending", parse_int(0, 1000000), "512", "datagrams held per exporter awaiting a template"),
    ("collector", "max_connections", parse_int(1000, 100000000), "1000000",
     "connections remembered for orientation, duplicate removal and reduction (memory bound)"),
    ("enrichment", "lookups_dir", parse_path, "./lookups", "CSV lookups (assets, allowlists, identity...)"),
    ("enrichment", "internal_networks", parse_cidrs, "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7",
     "the enterprise inside (CIM direction)"),
    ("enrichment", "geoip_city_db", parse_path, "", "MaxMind City/Country .mmdb"),
    ("enrichment", "geoip_asn_db", parse_path, "", "MaxMind ASN .mmdb"),
    ("enrichment", "maxmind_account_id", parse_text, "", "enables automatic database download"),
    ("enrichment", "maxmind_license_key_env", parse_env_name, "BOUNDARYFLOW_MAXMIND_KEY",
     "environment variable holding the MaxMind license key"),
    ("enrichment", "maxmind_editions", parse_text, "GeoLite2-City,GeoLite2-ASN", "edition ids to download"),
    ("enrichment", "maxmind_update_interval", parse_duration, "7d", "how often to check for new databases"),
    ("enrichment", "maxmind_download_url", parse_text, "https://download.maxmind.com/geoip/databases", ""),
    ("enrichment", "ca_bundle", parse_text, "", "CA bundle (PEM) for feeds, MaxMind and identity APIs"),
    ("enrichment", "cache_size", parse_int(1000, 10000000), "200000", "addresses cached by enrichment"),
    ("enrichment", "identity_ttl", parse_duration, "12h", "how long a polled sign-in maps an IP to a user"),
    ("enrichment", "identity_poll_interval", parse_duration, "5m", "Okta / Entra ID sign-in polling"),
    ("enrichment", "okta_url", parse_text, "", "https://YOUR-ORG.okta.com (enables the Okta poller)"),
    ("enrichment", "okta_token_env", parse_env_name, "BOUNDARYFLOW_OKTA_TOKEN", "env var: Okta API token"),
    ("enrichment", "entra_tenant_id", parse_text, "", "enables the Microsoft Graph sign-in poller"),
    ("enrichment", "entra_client_id", parse_text, "", "app registration with AuditLog.Read.All"),
    ("enrichment", "entra_client_secret_env", parse_env_name, "BOUNDARYFLOW_ENTRA_SECRET", "env var: secret"),
    ("enrichment", "entra_login_url", parse_text, "https://login.microsoftonline.com", ""),
    ("enrichment", "entra_graph_url", parse_text, "https://graph.microsoft.com", ""),
    ("enrichment", "splunk_rest_url", parse_https_url, "", "search head management URL, https://sh.example.com:8089 "
     "(enables KV store pulls)"),
    ("enrichment", "splunk_rest_token_env", parse_env_name, "BOUNDARYFLOW_SPLUNK_REST_TOKEN",
     "env var: Splunk authentication token (or 'Splunk <session key>')"),
    ("enrichment", "kv_ip_intel", parse_app_object, "SA-ThreatIntelligence/ip_intel", "APP/COLLECTION of ES ip_intel; empty = off"),
    ("enrichment", "kv_identity", parse_app_object, "", "APP/COLLECTION (or APP/LOOKUP.csv) of ip,user,start,end"),
    ("enrichment", "kv_poll_interval", parse_duration, "15m", "how often KV store collections are pulled"),
    ("reduction", "mode", parse_choice("flow", "conversation", "consolidated"), "conversation",
     "flow = 1:1, conversation = stitched per interval, consolidated = aggregated"),
    ("reduction", "interval", parse_duration, "60s", "reduction interval"),
    ("detection", "learning_period", parse_duration, "7d", "baseline period from the first flow"),
    ("detection", "operational_hours", parse_hours, "Mon-Fri 07:00-19:00", "DAYS HH:MM-HH:MM; ..."),
    ("detection", "timezone", parse_timezone, "UTC", "time zone of operational_hours"),
    ("detection", "exfil_burst_bytes", parse_size, "1GiB", "outbound bytes to one dest in the burst window"),
    ("detection", "exfil_burst_window", parse_duration, "1h", ""),
    ("detection", "exfil_slow_bytes", parse_size, "256MiB", "outbound bytes to one dest in the slow window"),
    ("detection", "exfil_slow_window", parse_duration, "24h", ""),
    ("detection", "long_lived", parse_duration, "4h", "outbound connection duration"),
    ("detection", "dedup_window", parse_duration, "24h", "one finding per key per window"),
    ("detection", "volume_spike_sigma", parse_float(0), "4", ""),
    ("detection", "volume_spike_factor", parse_float(0), "3", ""),
    ("detection", "volume_spike_floor", parse_float(0), "30", "connections per 5 min"),
    ("detection", "inference_ports", parse_ports, "443,8000,8080,8443", ""),
    ("detection", "management_ports", parse_ports, "22,623,2379,3389,5985,5986,6443,10250", ""),
    ("output", "sink", parse_choice("jsonl", "splunk", "hec"), "jsonl", ""),
    ("output", "path", parse_path, "-", "jsonl file, '-' = stdout"),
    ("output", "hec_url", parse_text, "", "https://host:8088"),
    ("output", "hec_token_env", parse_env_name, "BOUNDARYFLOW_HEC_TOKEN", "environment variable holding the token"),
    ("output", "hec_verify_tls", parse_bool, "true", "verify the HEC certificate"),
    ("output", "hec_ca_bundle", parse_path, "", "CA bundle for HEC"),
    ("output", "index", parse_text, "", "Splunk index (empty = input default)"),
    ("output", "source", parse_text, "boundaryflow", "the events' source"),
    ("output", "host", parse_text, "", "the events' host (empty = this host name)"),
    ("output", "spool_dir", parse_path, "", "on-disk spool while HEC is unreachable (default state_dir/spool)"),
    ("output", "spool_max", parse_size, "1GiB", ""),
    ("output", "hec_batch", parse_size, "1MiB", "send a HEC batch when it reaches this size (uncompressed)"),
    ("output", "hec_batch_interval", parse_duration, "1s", "... or when its oldest event is this old"),
    ("output", "hec_gzip", parse_bool, "true", "gzip HEC request bodies (Content-Encoding)"),
    ("output", "hec_ack", parse_bool, "false", "use indexer acknowledgement (enable it on the HEC token too)"),
]

# [threat_feed:NAME] sections
FEED_SCHEMA = [
    ("url", parse_text, "", "https URL or file path"),
    ("format", parse_choice("iplist", "csv", "stix", "taxii"), "iplist", ""),
    ("column", parse_text, "", "csv column holding the indicator"),
    ("collection", parse_text, "", "TAXII collection id"),
    ("interval", parse_duration, "1h", "refresh interval"),
    ("token_env", parse_env_name, "", "environment variable holding a bearer token"),
    ("category", parse_text, "", "threat_category for matches"),
    ("verify_tls", parse_bool, "true", ""),
]

PATH_KEYS = {("collector", "state_dir"), ("enrichment", "lookups_dir"), ("enrichment", "geoip_city_db"),
             ("enrichment", "geoip_asn_db"), ("output", "path"), ("output", "spool_dir"),
             ("output", "hec_ca_bundle")}


class Section(object):
    """Typed values of one section as attributes."""

    def __init__(self, name, values):
        self._name = name
        self.__dict__.update(values)

    def __repr__(self):
        return "Section(%s)" % self._name


class Config(object):
    """All sections: collector, enrichment, reduction, detection, output; feeds = {name: Section}."""

    def __init__(self, sections, feeds, base_dir):
        for name, sec in sections.items():
            setattr(self, name, sec)
        self.feeds = feeds
        self.base_dir = base_dir


def _sections():
    out = {}
    for section, key, parser, default, hlp in SCHEMA:
        out.setdefault(section, {})[key] = (parser, default, hlp)
    return out


def _fail(section, key, why, known=None):
    hint = ""
    if known is not None:
        close = difflib.get_close_matches(key, known, 1)
        hint = " (did you mean %r?)" % close[0] if close else " (known keys: %s)" % ", ".join(sorted(known))
    raise ConfigError("[%s] %s: %s%s" % (section, key, why, hint))


def from_mapping(mapping, base_dir=None):
    """Validate ``{section: {key: text}}``; unknown sections/keys and bad values raise ConfigError."""
    base_dir = os.path.abspath(base_dir or os.getcwd())
    schema = _sections()
    mapping = {s.strip(): dict(v) for s, v in (mapping or {}).items()}
    feeds_raw = {}
    for section, values in mapping.items():
        if section.startswith("threat_feed:"):
            feeds_raw[section.split(":", 1)[1].strip()] = values
        elif section not in schema:
            close = difflib.get_close_matches(section, list(schema), 1)
            raise ConfigError("[%s]: unknown section%s" % (
                section, " (did you mean [%s]?)" % close[0] if close else
                " (sections: %s, threat_feed:NAME)" % ", ".join(schema)))
    sections = {}
    for section, keys in schema.items():
        given = {k.strip().lower(): v for k, v in mapping.get(section, {}).items()}
        for k in given:
            if k not in keys:
                _fail(section, k, "unknown key", list(keys))
        values = {}
        for key, (parser, default, _h) in keys.items():
            text = given.get(key)
            text = default if text is None else str(text)
            try:
                v = parser(text)
            except ValueError as e:
                _fail(section, key, str(e))
            if (section, key) in PATH_KEYS and v and v != "-":
                v = os.path.normpath(os.path.join(base_dir, os.path.expanduser(v)))
            values[key] = v
        sections[section] = Section(section, values)
    feeds = {}
    feed_keys = {k: (p, d) for k, p, d, _h in FEED_SCHEMA}
    for name, values in feeds_raw.items():
        section = "threat_feed:" + name
        if not re.match(r"^[A-Za-z0-9_.-]+$", name):
            raise ConfigError("[%s]: feed names use letters, digits, _ . -" % section)
        given = {k.strip().lower(): v for k, v in values.items()}
        for k in given:
            if k not in feed_keys:
                _fail(section, k, "unknown key", list(feed_keys))
        vals = {"name": name}
        for key, (parser, default) in feed_keys.items():
            text = given.get(key, default)
            try:
                vals[key] = parser(str(text))
            except ValueError as e:
                _fail(section, key, str(e))
        if not vals["url"]:
            _fail(section, "url", "required: an https URL or a file path")
        if not re.match(r"^[a-z]+://", vals["url"]):
            vals["url"] = os.path.normpath(os.path.join(base_dir, os.path.expanduser(vals["url"])))
        elif vals["url"].startswith("http://"):
            _fail(section, "url", "use https:// (feeds are fetched with TLS verification)")
        if vals["format"] == "csv" and not vals["column"]:
            _fail(section, "column", "required for format = csv: the column holding the IP/CIDR")
        if vals["format"] == "taxii" and not vals["collection"]:
            _fail(section, "collection", "required for format = taxii: the collection id")
        feeds[name] = Section(section, vals)
    out = sections["output"]
    if out.sink == "hec" and not out.hec_url:
        _fail("output", "hec_url", "required when sink = hec (e.g. https://splunk.example.com:8088)")
    if out.hec_url and not re.match(r"^https?://[^/\s]+", out.hec_url):
        _fail("output", "hec_url", "%r is not an http(s) URL" % out.hec_url)
    det = sections["detection"]
    if det.exfil_slow_bytes > det.exfil_burst_bytes:
        _fail("detection", "exfil_slow_bytes", "must not exceed exfil_burst_bytes")
    return Config(sections, feeds, base_dir)


def load_file(path):
    """Read an INI file; relative paths in it resolve against its own directory."""
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"))
    parser.optionxform = str
    try:
        with open(path, encoding="utf-8") as fh:
            parser.read_file(fh)
    except OSError as e:
        raise ConfigError("cannot read config file %s: %s" % (path, e.strerror))
    except configparser.Error as e:
        raise ConfigError("config file %s: %s" % (path, e))
    mapping = {s: dict(parser.items(s)) for s in parser.sections()}
    return from_mapping(mapping, os.path.dirname(os.path.abspath(path)))


def default(base_dir=None, **overrides):
    """Defaults, with optional ``section_key=text`` overrides (handy in tests)."""
    mapping = {}
    for k, v in overrides.items():
        section, key = k.split("_", 1) if k.split("_", 1)[0] in _sections() else (None, None)
        if section is None:
            raise ConfigError("override %r: use section_key=value, e.g. detection_long_lived='4h'" % k)
        mapping.setdefault(section, {})[key] = v
    return from_mapping(mapping, base_dir)
