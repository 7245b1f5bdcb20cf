"""Set processing shared by NetFlow v9 and IPFIX: templates in, data sets out, held data released.

The protocol modules parse their header and split the message into sets; this module does the
rest. Template sets are parsed completely (raising DecodeError on a malformed one) before any
state changes, so a bad datagram never leaves half a template behind.
"""
from __future__ import annotations

from .records import VARIABLE, walk_raw
from .errors import DecodeError
from .options import apply_record
from .state import Pending


def decode_message(state, version, domain, buf, pos, end, T, U, arrival, template_sets):
    """The sets in buf[pos:end] decoded: :func:`split_sets` + :func:`process`, same results.

    Fast path for what most datagrams are (pmacct: ~85%): ONE data set whose template is known,
    live and compiled, in a domain whose options exist - the lookups of ``state.template``,
    ``state.domain_options`` and ``_decode_set`` inline, no list of sets. Everything else
    (template sets, several sets, a missing / expired / options template, bad set lengths) takes
    the general path; the fast path changes no state before it commits, so handing over is safe.
    """
    if end - pos >= 4:
        set_id = (buf[pos] << 8) | buf[pos + 1]
        set_end = pos + ((buf[pos + 2] << 8) | buf[pos + 3])
        # one set that fits and leaves less than a set header behind (split_sets ignores that)
        if set_id >= 256 and pos + 4 <= set_end <= end < set_end + 4:
            t = state.templates.get((version, domain, set_id))
            if t is not None and t.kind == "data" and arrival - t.refreshed <= state.template_ttl:
                ct = t._compiled          # None until the general path compiles it
                opts = state.options.get((version, domain))
                if ct is not None and ct.is_flow and opts is not None:
                    flows = _convert(state, ct, opts, domain, buf, pos + 4, set_end, T, U)
                    return flows, len(flows)
    return process(state, version, domain, split_sets(buf, pos, end, version, domain), buf, T, U,
                   arrival, template_sets)


def process(state, version, domain, sets, buf, T, U, arrival, template_sets):
    """Decode one message's sets. Returns (flows, data records seen or None when unknown).

    ``sets``: [(set id, start, end)] over ``buf``; ``template_sets``: {set id: parser} where a
    parser returns a list of ("data"|"options"|"rejected", template id, fields, scope count) and
    ("withdraw", template id or None for all, "data"|"options", 0).
    """
    released = ()
    for set_id, _start, _end in sets:
        if set_id < 256:      # the message carries template sets (most carry data only)
            released = _announce(state, version, domain, sets, buf, arrival, template_sets)
            break

    flows = []
    records = 0
    for set_id, start, end in sets:
        if set_id < 256:
            continue
        t = state.template(version, domain, set_id, arrival)
        if t is None:
            state.counters["template_misses"] += 1
            state.hold(Pending(version, domain, set_id, bytes(buf[start:end]), T, U, arrival))
            records = None
            continue
        n = _decode_set(state, version, domain, set_id, t, buf, start, end, T, U, flows)
        if records is not None:
            records += n

    for p in released:
        t = state.template(p.version, p.domain, p.template_id, arrival)
        if t is not None:
            state.counters["pending_decoded"] += 1
            _decode_set(state, p.version, p.domain, p.template_id, t, p.data, 0, len(p.data),
                        p.T, p.U, flows)
    return flows, records


def _announce(state, version, domain, sets, buf, arrival, template_sets):
    """Apply the message's template sets to ``state``; returns the held data sets they release."""
    announced = []
    for set_id, start, end in sets:
        parser = template_sets.get(set_id)
        if parser is not None:
            announced.extend(PARSED_SETS.parse(parser, buf, start, end, domain))

    released = []
    for kind, tid, fields, scope_count in announced:
        if kind == "withdraw":
            state.withdraw(version, domain, tid, fields)   # here fields = the template kind
        elif kind == "rejected":
            state.counters["templates_rejected"] += 1
        elif state.add_template(version, domain, tid, kind, fields, scope_count, arrival):
            released.extend(state.take_pending(version, domain, tid, arrival))
    return released


class ParsedSets(object):
    """Template sets already parsed, by their bytes.

    Exporters resend the same template sets every few seconds or packets (pmacct: every few
    packets), so a set is parsed once. Shared by all exporters (the result depends on nothing
    else; equal sets then also share their field tuples). Bounded by the bytes of the sets held
    (a parsed set takes ~20x its bytes): cleared when full; larger sets are never kept. A set
    whose parse raises is not kept either.
    """
    __slots__ = ("parsed", "held", "budget", "max_set")

    def __init__(self, budget=32 << 10, max_set=2048):
        self.parsed = {}       # (parser, set bytes) -> tuple of parser results
        self.held = 0          # bytes of the sets in ``parsed``
        self.budget = budget
        self.max_set = max_set

    def parse(self, parser, buf, start, end, domain):
        """parser(buf, start, end, domain), from memory when the same set was seen before."""
        size = end - start
        if size > self.max_set:
            return parser(buf, start, end, domain)
        raw = bytes(buf[start:end])
        key = (parser, raw)
        got = self.parsed.get(key)
        if got is None:
            got = tuple(parser(raw, 0, size, domain))
            if self.held + size > self.budget:
                self.parsed.clear()
                self.held = 0
            self.parsed[key] = got
            self.held += size
        return got


PARSED_SETS = ParsedSets()


def _decode_set(state, version, domain, tid, t, buf, start, end, T, U, out):
    """Decode one data set with its template into ``out``; returns the number of records."""
    counters = state.counters
    opts = state.domain_options(version, domain)
    if t.kind == "options":
        return _options_set(state, version, t, opts, buf, start, end)
    ct = t.compiled
    if not ct.is_flow:
        n = _count_records(state, t, buf, start, end)
        counters["records_not_flows"] += n
        return n
    flows = _convert(state, ct, opts, domain, buf, start, end, T, U)
    out.extend(flows)
    return len(flows)


def _convert(state, ct, opts, domain, buf, start, end, T, U):
    """The flows of one data set through its compiled flow template; a malformed set gives none
    (counted in ``malformed_sets``), skipped unknown fields are counted per record."""
    try:
        flows = ct.convert(buf, start, end, T, U, opts.rate, opts, domain)
    except DecodeError:
        state.counters["malformed_sets"] += 1
        return []
    if ct.unknown:
        state.counters["unknown_fields_skipped"] += ct.unknown * len(flows)
    return flows


def _raw_records(state, t, buf, start, end):
    """Each record of a set as raw field bytes (slow path: options and non-flow templates)."""
    minimum = max(1, sum(1 if n == VARIABLE else n for _p, _i, n in t.fields))
    pos = start
    try:
        while end - pos >= minimum:
            raw, pos = walk_raw(t.fields, buf, pos, end)
            yield raw
    except DecodeError:
        state.counters["malformed_sets"] += 1


def _count_records(state, t, buf, start, end):
    n = t.compiled.records_in(end - start)
    if n is None:
        n = sum(1 for _ in _raw_records(state, t, buf, start, end))
    return n


def _options_set(state, version, t, opts, buf, start, end):
    n = 0
    for raw in _raw_records(state, t, buf, start, end):
        apply_record(opts, version, t.fields, t.scope_count, raw)
        n += 1
    state.counters["options_records"] += n
    return n


def split_sets(buf, pos, end, version, domain):
    """[(set id, payload start, payload end)] for the sets in buf[pos:end]."""
    sets = []
    while end - pos >= 4:
        set_id = (buf[pos] << 8) | buf[pos + 1]
        length = (buf[pos + 2] << 8) | buf[pos + 3]
        if length < 4 or pos + length > end:
            raise DecodeError("set %d length %d does not fit the message" % (set_id, length),
                              version, domain, set_id if set_id >= 256 else None)
        sets.append((set_id, pos + 4, pos + length))
        pos += length
    return sets
