"""Template -> compiled record converter (the goflow2 "template-compiled struct decoder" model).

A NetFlow v9 / IPFIX template (a tuple of (enterprise, element id, length) fields) is compiled
ONCE into a ``struct.Struct`` (fixed-length templates: one ``iter_unpack`` over the whole set;
unknown and unneeded fields become pad bytes) and a generated Python function that turns each
unpacked tuple into a :class:`model.Flow` - no per-record dispatch on field ids. Templates with
variable-length elements use the same generated body fed by a per-record field walker.

Generated code only ever contains identifiers and constants chosen here (never bytes from a
datagram); values from the wire are data, not code.
"""
from __future__ import annotations

import struct

from ..model import Flow
from . import values as V
from .elements import lookup
from .records import VARIABLE, walker_lines

MAX_FIELDS = 256           # more than any real exporter sends; larger templates are rejected
_INT_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}
# abstract data type -> its full size in bytes (RFC 7012 §3.1); encodings may be shorter, not longer
_INT_SIZE = {"unsigned8": 1, "signed8": 1, "boolean": 1, "unsigned16": 2, "signed16": 2,
             "unsigned32": 4, "signed32": 4, "dateTimeSeconds": 4, "unsigned64": 8, "signed64": 8,
             "dateTimeMilliseconds": 8}
_CACHE_LIMIT = 512
_cache = {}                # (version, fields) -> CompiledTemplate, shared by all exporters


class TemplateError(ValueError):
    """A template this decoder refuses (counted as templates_rejected, never raised to callers)."""


class CompiledTemplate(object):
    """What a data set needs: ``convert(buf, start, end, T, U, rate, opts, domain) -> [Flow]``."""

    __slots__ = ("version", "fields", "record_length", "min_length", "is_flow", "unknown",
                 "convert", "source")

    def records_in(self, nbytes):
        """Number of records a set of this many payload bytes holds (fixed-length only)."""
        return nbytes // self.record_length if self.record_length else None


def compile_template(version, fields):
    """Compiled converter for a data template (cached; equal templates share one)."""
    key = (version, fields)
    ct = _cache.get(key)
    if ct is None:
        ct = _compile(version, fields)
        if len(_cache) >= _CACHE_LIMIT:
            _cache.pop(next(iter(_cache)))
        _cache[key] = ct
    return ct


# ---------------------------------------------------------------------------------------------
# field analysis


class _Field(object):
    """One template field after lookup: how to unpack it and which role its value plays."""
    __slots__ = ("code", "length", "var", "attr", "element", "kind")


def validate_template(fields):
    """Raise TemplateError for a template no record can follow (cheap; no compilation)."""
    if not fields or len(fields) > MAX_FIELDS:
        raise TemplateError("template has %d fields (1..%d accepted)" % (len(fields), MAX_FIELDS))
    fixed = sum(n for _p, _i, n in fields if n != VARIABLE)
    if fixed > 65535:
        raise TemplateError("template record longer than a datagram")
    if fixed == 0 and all(n != VARIABLE for _p, _i, n in fields):
        raise TemplateError("template records are zero bytes long")


def _analyse(fields):
    validate_template(fields)
    out, unknown, fixed_total, variable = [], 0, 0, False
    for i, (pen, eid, length) in enumerate(fields):
        f = _Field()
        f.length, f.var, f.attr, f.element, f.kind = length, None, None, None, None
        el = lookup(pen, eid)
        if length == VARIABLE:
            variable = True
        else:
            fixed_total += length
        if el is None:
            unknown += 1
        elif el.attr:
            kind = _value_kind(el, length)
            if kind is not None:
                f.var, f.attr, f.element, f.kind = "f%d" % i, el.attr, el, kind
        f.code = _struct_code(f)
        out.append(f)
    return out, unknown, variable, fixed_total


def _value_kind(el, length):
    """How the raw value is turned into Python: None = not usable at this length (skipped)."""
    t = el.type
    if t == "ipv4Address":
        return "ip4" if length == 4 else None
    if t == "ipv6Address":
        return "ip6" if length == 16 else None
    if t == "macAddress":
        return "mac" if length == 6 else None
    if t == "string":
        return "text"
    if t == "octetArray":
        return "bytes"
    if t == "float64":
        return "float" if length == 8 else None
    if t in ("dateTimeMicroseconds", "dateTimeNanoseconds"):
        return "ntp" if length == 8 else None
    # unsignedN / signedN / dateTimeSeconds / dateTimeMilliseconds / boolean: integers, and
    # IPFIX reduced-size encoding (RFC 7011 §6.2) may shorten them - never lengthen: a 4-byte
    # "unsigned16" port is not a valid encoding and would carry values no port can have, so such a
    # field is skipped by its length like an unknown one.
    if length == VARIABLE or not 1 <= length <= _INT_SIZE.get(t, 8):
        return None
    return "int" if length in _INT_CODES else "intbytes"


def _struct_code(f):
    if f.length == VARIABLE:
        return None
    if f.var is None:
        return "%dx" % f.length if f.length else ""
    if f.kind in ("int", "ntp", "ip4"):
        return _INT_CODES[f.length]
    if f.kind == "float":
        return "d"
    return "%ds" % f.length


# ---------------------------------------------------------------------------------------------
# code generation

# address text comes from a cache indexed directly (no function call per field); IPv4 addresses
# are unpacked as integers, which hash faster than 4-byte strings
_CONVERT = {"ip4": "V4I[%s]", "ip6": "V6[%s]", "mac": "mac(%s)", "text": "text(%s)",
            "bytes": "hexstr(%s)", "int": "%s", "intbytes": "uint(%s)", "float": "%s",
            "ntp": "ntp(%s)"}
_ABS_TIME = {"dateTimeSeconds": "(%s * 1.0)", "dateTimeMilliseconds": "(%s * 0.001)",
             "dateTimeMicroseconds": "%s", "dateTimeNanoseconds": "%s"}
# NetFlow v5/v9 sysUpTime ms -> epoch: B = boot time (export time - uptime). A stamp above the
# header's uptime was taken before the 32-bit counter wrapped (or a hair in the future):
# use the signed 32-bit distance then.
_V9_UPTIME = ("(B + {v} * 0.001 if {v} <= U else "
              "T - (((U - {v} + 2147483648) & 4294967295) - 2147483648) * 0.001)")
_IPFIX_UPTIME = "((init + %s) * 0.001 if init is not None else T)"


def _convert(f):
    """Expression for a field's Python value."""
    template = _CONVERT[f.kind]
    return template % ((f.var,) * template.count("%s"))


def _numeric(f):
    """Expression for an integer-valued field."""
    return "uint(%s)" % f.var if f.kind == "intbytes" else f.var


def _generate(version, fields, unsampled=False, names=True):
    """(pre-loop lines, per-record lines, uses the call's rate, uses interface names) or None for
    non-flow templates.

    ``unsampled``: the variant used when the call's rate is 1 - counters are not multiplied and
    sampling_rate keeps the class default (measurably cheaper per record). ``names=False``: the
    variant used while the domain has no interface names (no per-record lookup).
    """
    role = {}                      # attr -> first field carrying it
    vendor = []
    for f in fields:
        if f.var is None:
            continue
        a = f.attr
        if a.startswith("vendor:"):
            vendor.append((a[7:], f))
        elif a in ("src_ip", "dest_ip"):
            fam = "6" if f.kind == "ip6" else "4"
            role.setdefault(a + fam, f)
        else:
            role.setdefault(a, f)
    if not any(k in role for k in ("src_ip4", "src_ip6", "dest_ip4", "dest_ip6")):
        return None                 # not a flow template (e.g. a vendor statistics table)

    pre, body, dict_items, post = [], [], [], []
    dict_items.append("'export_protocol': P, 'observation_domain': domain")

    # -- addresses ---------------------------------------------------------------------------
    has4 = "src_ip4" in role or "dest_ip4" in role
    has6 = "src_ip6" in role or "dest_ip6" in role

    def addr_items(fam):
        items = []
        for end in ("src_ip", "dest_ip"):
            f = role.get(end + fam)
            items.append(_convert(f) if f else "None")
        return items

    if has4 and has6:
        probe4 = role.get("src_ip4") or role.get("dest_ip4")
        probe6 = role.get("src_ip6") or role.get("dest_ip6")
        s6, d6 = addr_items("6")
        s4, d4 = addr_items("4")
        body.append("if %s == 0 and %s != Z16:" % (probe4.var, probe6.var))
        body.append("    sip = %s; dip = %s; ipv = 6" % (s6, d6))
        body.append("else:")
        body.append("    sip = %s; dip = %s; ipv = 4" % (s4, d4))
        dict_items.append("'src_ip': sip, 'dest_ip': dip, 'ip_version': ipv")
    else:
        s, d = addr_items("6" if has6 else "4")
        dict_items.append("'src_ip': %s, 'dest_ip': %s" % (s, d))
        if has6:
            dict_items.append("'ip_version': 6")

    # -- plain attributes --------------------------------------------------------------------
    for a in ("src_port", "dest_port", "protocol_number", "input_if", "output_if"):
        f = role.get(a)
        if f is not None:
            dict_items.append("'%s': %s" % (a, _numeric(f)))

    # -- sampling rate -----------------------------------------------------------------------
    r = "r"
    if "sampling_interval" in role:
        body.append("r = %s or rate" % _numeric(role["sampling_interval"]))
    elif "sampler_id" in role:
        body.append("r = samplers.get(%s) or rate" % _numeric(role["sampler_id"]))
    else:
        r = "rate"
    if not (unsampled and r == "rate"):
        dict_items.append("'sampling_rate': %s" % r)
    scale = "" if unsampled and r == "rate" else " * %s" % r

    # -- counters (delta counters preferred over totals) -------------------------------------
    for a in ("bytes_out", "packets_out", "bytes_in", "packets_in"):
        f = role.get(a) or role.get(a + "_total")
        if f is not None:
            dict_items.append("'%s': %s%s" % (a, _numeric(f), scale))
    flags = [_numeric(role[a]) for a in ("tcp_flags", "reverse_tcp_flags") if a in role]
    if flags:   # a biflow's flags: both directions OR-ed (model.Flow.tcp_flags)
        dict_items.append("'tcp_flags': %s" % " | ".join(flags))

    # -- times -------------------------------------------------------------------------------
    if version == "ipfix" and ("start_uptime" in role or "end_uptime" in role):
        if "sys_init_ms" in role:
            body.append("init = %s" % _numeric(role["sys_init_ms"]))
        else:
            pre.append("init = opts.sys_init_ms")
    if version != "ipfix" and ("start_uptime" in role or "end_uptime" in role):
        pre.append("B = T - U * 0.001")

    def time_expr(which):
        f = role.get(which)
        if f is not None:
            raw = "ntp(%s)" % f.var if f.kind == "ntp" else _numeric(f)
            return _ABS_TIME.get(f.element.type, "(%s * 1.0)") % raw if f.kind != "ntp" else raw
        f = role.get(which + "_delta")
        if f is not None:
            return "(T - %s * 1e-6)" % _numeric(f)
        f = role.get(which + "_uptime")
        if f is not None:
            if version == "ipfix":
                return _IPFIX_UPTIME % _numeric(f)
            return "(%s)" % _V9_UPTIME.format(v=_numeric(f))
        return None

    end = time_expr("end")
    start = time_expr("start")
    if end is None and "end_observed" in role:
        f = role["end_observed"]
        end = "ntp(%s)" % f.var if f.kind == "ntp" else _ABS_TIME[f.element.type] % _numeric(f)
    dur = None
    if "duration_ms" in role:
        dur = "%s * 0.001" % _numeric(role["duration_ms"])
    elif "duration_us" in role:
        dur = "%s * 1e-6" % _numeric(role["duration_us"])
    if end is None and start is not None and dur is not None:
        body.append("s = %s" % start)
        dict_items.append("'start': s, 'end': s + %s" % dur)
    elif start is None:
        body.append("e = %s" % (end or "T"))
        dict_items.append("'start': e%s, 'end': e" % (" - " + dur if dur else ""))
    else:
        dict_items.append("'start': %s, 'end': %s" % (start, end or "T"))

    # -- vendor / application / action ---------------------------------------------------------
    for a in ("app", "src_user", "dest_user"):
        f = role.get(a)
        if f is not None:
            post.append("x = %s" % _convert(f))
            post.append("if x: d['%s'] = x" % a)
    if "app_id" in role and "app" not in role:
        f = role["app_id"]
        post.append("d['app'] = appn.get(%s) or app_id_text(%s)" % (f.var, f.var))
        pre.append("appn = opts.app_names")
    if "action" in role:
        f = role["action"]
        consts_name = "AMAP"
        post.append("x = %s.get(%s)" % (consts_name, _numeric(f)))
        post.append("if x: d['action'] = x; d['initiator_known'] = True")
    if "vlan" in role:
        post.append("if %s: d['vlan'] = %s" % (role["vlan"].var, _numeric(role["vlan"])))
    has_if = "input_if" in role or "output_if" in role
    if has_if:
        pre.append("ifn = opts.if_names")
    if has_if and names:     # this variant runs only while ifn (the names map) is not empty
        for a, name_attr in (("input_if", "input_if_name"), ("output_if", "output_if_name")):
            f = role.get(a)
            if f is not None:
                post.append("x = ifn.get(%s)" % _numeric(f))
                post.append("if x: d['%s'] = x" % name_attr)
    if "sampler_id" in role and "sampling_interval" not in role:
        pre.append("samplers = opts.samplers")
    if vendor:
        post.append("d['vendor'] = {%s}" % ", ".join(
            "%r: %s" % (name, _convert(f)) for name, f in vendor))

    # -- ICMP type/code ------------------------------------------------------------------------
    p = role.get("protocol_number")
    if p is not None:
        pv = _numeric(p)
        if "icmp_typecode" in role:
            tc = _numeric(role["icmp_typecode"])
            post.append("if %s == 1 or %s == 58: d['icmp_type'] = %s >> 8; d['icmp_code'] = %s & 255"
                        % (pv, pv, tc, tc))
        elif "icmp_type" in role:
            code = _numeric(role["icmp_code"]) if "icmp_code" in role else "0"
            post.append("if %s == 1 or %s == 58: d['icmp_type'] = %s; d['icmp_code'] = %s"
                        % (pv, pv, _numeric(role["icmp_type"]), code))
        elif "dest_port" in role:
            # NetFlow v5/v9 convention: ICMP type*256+code in the destination port
            dp = _numeric(role["dest_port"])
            post.append("if %s == 1 or %s == 58: d['icmp_type'] = %s >> 8; d['icmp_code'] = %s & 255; "
                        "d['dest_port'] = 0" % (pv, pv, dp, dp))

    final = ["fl = %s" % _NEW_FLOW, "fl.__dict__ = d"]
    if "biflow_direction" in role:
        bd = _numeric(role["biflow_direction"])
        final.append("if %s == 1: fl.initiator_known = True" % bd)
        final.append("elif %s == 2: fl.swap(); fl.initiator_known = True" % bd)
    final.append("append(fl)")
    record = body + ["d = {%s}" % ", ".join(dict_items)] + post + final
    return pre, record, r == "rate", has_if


def _compile(version, fields):
    analysed, unknown, variable, fixed_total = _analyse(fields)
    generated = _generate(version, analysed)
    ct = CompiledTemplate()
    ct.version, ct.fields, ct.unknown = version, fields, unknown
    ct.is_flow = generated is not None
    ct.record_length = None if variable else fixed_total
    ct.min_length = fixed_total + sum(1 for f in analysed if f.length == VARIABLE)
    ct.convert, ct.source = None, ""
    if generated is None:
        return ct
    pre, _record, uses_call_rate, has_if = generated
    names = [f.var for f in analysed if f.var is not None]
    target = "(%s,)" % ", ".join(names)
    lines = ["def convert(buf, start, end, T, U, rate, opts, domain):",
             "    out = []", "    append = out.append"]
    lines += ["    " + line for line in pre]
    ns = _namespace(version, _action_map(analysed))
    if variable:
        ns["MINLEN"] = ct.min_length
        head = ["pos = start", "while end - pos >= MINLEN:"]
        body = walker_lines(analysed, ns)
    else:
        st = struct.Struct("!" + "".join(f.code for f in analysed))
        ns["iter_unpack"] = st.iter_unpack
        head = ["n = (end - start) // %d" % fixed_total,
                "for %s in iter_unpack(buf[start:start + n * %d]):" % (target, fixed_total)]
        body = []
    # one loop per variant, chosen once per set: (condition, unsampled, with interface names);
    # the last one has no condition (it is the "else")
    variants = [("", False, True)]
    if has_if:
        variants.insert(0, ("not ifn", False, False))
    if uses_call_rate:
        variants = [(" and ".join(filter(None, ("rate == 1", cond))), True, names_)
                    for cond, _u, names_ in variants] + variants
    for i, (condition, unsampled, with_names) in enumerate(variants):
        record = _generate(version, analysed, unsampled, with_names)[1]
        indent = "    "
        if len(variants) > 1:
            lines.append("    %s:" % ("else" if not condition else
                                      ("if " if i == 0 else "elif ") + condition))
            indent = "        "
        lines += [indent + line for line in head]
        lines += [indent + "    " + line for line in body + record]
    lines.append("    return out")
    ct.source = "\n".join(lines)
    exec(compile(ct.source, "<template %s>" % version, "exec"), ns)
    ct.convert = ns["convert"]
    return ct


# ``Flow()`` is cheaper than ``Flow.__new__(Flow)`` (no argument parsing in the __new__ wrapper)
# and the same thing while Flow defines neither __init__ nor __new__.
_NEW_FLOW = "Flow()" if Flow.__init__ is object.__init__ and Flow.__new__ is object.__new__ \
    else "new(Flow)"


def _action_map(analysed):
    for f in analysed:
        if f.attr == "action":
            return f.element.values
    return {}


def _namespace(version, amap):
    return {"Flow": Flow, "new": Flow.__new__, "P": version, "AMAP": amap,
            "Z16": b"\0" * 16, "V4I": V.V4I, "V6": V.V6, "mac": V.mac,
            "text": V.text, "hexstr": V.hexstr, "uint": V.uint, "ntp": V.ntp_time,
            "app_id_text": V.app_id_text}
