"""Per-exporter decoder state: templates, held data, options, sequence tracking and counters.

The pipeline keeps one ExporterState per exporter ADDRESS; inside, everything is keyed by
(protocol version, observation domain / source id[, template id]). All collections are bounded
so a flood from one (possibly spoofed) exporter cannot grow memory without limit.
"""
from __future__ import annotations

from collections import deque

from .compiler import TemplateError, compile_template, validate_template
from .options import DomainOptions
from .sequence import SequenceTracker

MAX_DOMAINS = 1024
MAX_SFLOW_COUNTERS = 4096
COUNTER_NAMES = (
    "datagrams", "flows", "template_misses", "pending_dropped", "pending_decoded",
    "sequence_gaps", "sequence_resets", "sequence_reordered", "templates_added",
    "templates_rejected", "templates_expired", "templates_withdrawn", "unknown_fields_skipped",
    "records_not_flows", "malformed_sets", "options_records", "sflow_flow_samples",
    "sflow_counter_samples", "sflow_unparsed_headers", "decode_errors",
)


class Template(object):
    __slots__ = ("version", "kind", "fields", "scope_count", "_compiled", "refreshed")

    def __init__(self, version, kind, fields, scope_count, refreshed):
        self.version = version
        self.kind = kind                  # "data" | "options"
        self.fields = fields              # tuple of (pen, element id, length)
        self.scope_count = scope_count    # options templates: number of scope fields
        self.refreshed = refreshed        # arrival time it was last (re)announced
        self._compiled = None

    @property
    def compiled(self):
        """CompiledTemplate, built at first use: a flood of templates that never carry data
        costs a validation each, not a compilation."""
        if self._compiled is None:
            self._compiled = compile_template(self.version, self.fields)
        return self._compiled


class Pending(object):
    """A data set held until its template arrives (with the header context to decode it)."""
    __slots__ = ("version", "domain", "template_id", "data", "T", "U", "arrival")

    def __init__(self, version, domain, template_id, data, T, U, arrival):
        self.version, self.domain, self.template_id = version, domain, template_id
        self.data, self.T, self.U, self.arrival = data, T, U, arrival


class ExporterState(object):
    def __init__(self, max_templates=1024, max_pending=512, template_ttl=1800.0,
                 max_pending_bytes=4 << 20):
        self.max_templates = max_templates
        self.max_pending = max_pending
        self.max_pending_bytes = max_pending_bytes
        self.template_ttl = template_ttl
        self.templates = {}               # (version, domain, template id) -> Template
        self.options = {}                 # (version, domain) -> DomainOptions
        self.pending = deque()
        self.pending_bytes = 0
        self.sequences = SequenceTracker()
        self.counters = dict.fromkeys(COUNTER_NAMES, 0)
        self.sflow_counters = {}          # (agent, ifIndex) -> latest counter-sample values

    # -- templates ----------------------------------------------------------------------------
    def template(self, version, domain, template_id, arrival):
        """The live template or None (expired ones are dropped here: TTL by arrival time)."""
        key = (version, domain, template_id)
        t = self.templates.get(key)
        if t is not None and arrival - t.refreshed > self.template_ttl:
            del self.templates[key]
            self.counters["templates_expired"] += 1
            return None
        return t

    def add_template(self, version, domain, template_id, kind, fields, scope_count, arrival):
        """Store (or refresh) a template; False when refused (counted as templates_rejected)."""
        key = (version, domain, template_id)
        old = self.templates.get(key)
        if old is not None and old.kind == kind and old.fields == fields \
                and old.scope_count == scope_count:
            old.refreshed = arrival
            return True
        if old is None and len(self.templates) >= self.max_templates:
            self._expire(arrival)
            if len(self.templates) >= self.max_templates:
                self.counters["templates_rejected"] += 1
                return False
        try:
            validate_template(fields)
        except TemplateError:
            self.counters["templates_rejected"] += 1
            return False
        self.templates[key] = Template(version, kind, fields, scope_count, arrival)
        self.counters["templates_added"] += 1
        return True

    def withdraw(self, version, domain, template_id=None, kind=None):
        """RFC 7011 §8.1 withdrawal: one template, or all of a kind when template_id is None."""
        for key in [k for k, t in self.templates.items()
                    if k[0] == version and k[1] == domain
                    and (template_id is None or k[2] == template_id)
                    and (kind is None or t.kind == kind)]:
            del self.templates[key]
            self.counters["templates_withdrawn"] += 1

    def _expire(self, arrival):
        for key in [k for k, t in self.templates.items() if arrival - t.refreshed > self.template_ttl]:
            del self.templates[key]
            self.counters["templates_expired"] += 1

    # -- options ------------------------------------------------------------------------------
    def domain_options(self, version, domain):
        key = (version, domain)
        o = self.options.get(key)
        if o is None:
            o = DomainOptions()
            if len(self.options) < MAX_DOMAINS:
                self.options[key] = o
        return o

    # -- data held for a template -------------------------------------------------------------
    def hold(self, item):
        self.pending.append(item)
        self.pending_bytes += len(item.data)
        while self.pending and (len(self.pending) > self.max_pending
                                or self.pending_bytes > self.max_pending_bytes):
            old = self.pending.popleft()
            self.pending_bytes -= len(old.data)
            self.counters["pending_dropped"] += 1

    def take_pending(self, version, domain, template_id, arrival):
        """Held sets for this template, oldest first (sets older than the TTL are dropped)."""
        if not self.pending:
            return []
        taken, kept = [], deque()
        for p in self.pending:
            if p.version == version and p.domain == domain and p.template_id == template_id:
                self.pending_bytes -= len(p.data)
                if arrival - p.arrival > self.template_ttl:
                    self.counters["pending_dropped"] += 1
                else:
                    taken.append(p)
            else:
                kept.append(p)
        self.pending = kept
        return taken

    def pending_count(self):
        return len(self.pending)

    # -- sFlow counter samples ------------------------------------------------------------------
    def store_sflow_counters(self, key, values):
        if key in self.sflow_counters or len(self.sflow_counters) < MAX_SFLOW_COUNTERS:
            self.sflow_counters[key] = values

    # -- persistence ----------------------------------------------------------------------------
    def to_dict(self):
        """JSON-safe snapshot of templates and options data (what a restart needs)."""
        return {
            "format": 1,
            "templates": [
                {"version": k[0], "domain": k[1], "id": k[2], "kind": t.kind,
                 "fields": [list(f) for f in t.fields], "scope_count": t.scope_count,
                 "refreshed": t.refreshed}
                for k, t in self.templates.items()],
            "options": [dict(o.to_dict(), version=k[0], domain=k[1]) for k, o in self.options.items()],
        }

    @classmethod
    def from_dict(cls, d, **kwargs):
        """Rebuild from :meth:`to_dict` output; entries that do not validate are skipped."""
        state = cls(**kwargs)
        for t in (d or {}).get("templates", []):
            try:
                fields = tuple((int(p), int(i), int(n)) for p, i, n in t["fields"])
                if t["kind"] not in ("data", "options"):
                    continue
                state.add_template(str(t["version"]), int(t["domain"]), int(t["id"]),
                                   t["kind"], fields, int(t.get("scope_count", 0)),
                                   float(t["refreshed"]))
            except (KeyError, TypeError, ValueError):
                continue
        for o in (d or {}).get("options", []):
            try:
                key = (str(o["version"]), int(o["domain"]))
                if len(state.options) < MAX_DOMAINS:
                    state.options[key] = DomainOptions.from_dict(o)
            except (KeyError, TypeError, ValueError):
                continue
        state.counters = dict.fromkeys(COUNTER_NAMES, 0)
        return state
