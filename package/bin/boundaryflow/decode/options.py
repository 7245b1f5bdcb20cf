"""Options data an exporter announces per observation domain / source id.

Sampling (v9 34/35/48/49/50, IPFIX 302/304/305/306/309/310), interface names (ifName 82 /
ifDescr 83 keyed by ifIndex 10/14 or the v9 interface scope), application names (applicationId
95 -> applicationName 96, Cisco AVC/NBAR) and systemInitTimeMilliseconds 160. Maps are bounded.
"""
from __future__ import annotations

from . import values as V
from .elements import lookup

MAP_LIMIT = 4096
V9_SCOPE_INTERFACE = 2     # v9 options scope field types are their own namespace (RFC 3954 §6.1)


class DomainOptions(object):
    __slots__ = ("rate", "samplers", "if_names", "app_names", "sys_init_ms")

    def __init__(self):
        self.rate = 1              # exporter-wide sampling rate (options without a sampler id)
        self.samplers = {}         # sampler / selector id -> rate
        self.if_names = {}         # ifIndex -> name
        self.app_names = {}        # applicationId bytes -> name
        self.sys_init_ms = None    # IPFIX systemInitTimeMilliseconds

    def to_dict(self):
        return {"rate": self.rate, "samplers": {str(k): v for k, v in self.samplers.items()},
                "if_names": {str(k): v for k, v in self.if_names.items()},
                "app_names": {k.hex(): v for k, v in self.app_names.items()},
                "sys_init_ms": self.sys_init_ms}

    @classmethod
    def from_dict(cls, d):
        o = cls()
        o.rate = max(1, int(d.get("rate") or 1))
        o.samplers = {int(k): int(v) for k, v in (d.get("samplers") or {}).items()}
        o.if_names = {int(k): str(v) for k, v in (d.get("if_names") or {}).items()}
        o.app_names = {bytes.fromhex(k): str(v) for k, v in (d.get("app_names") or {}).items()}
        o.sys_init_ms = d.get("sys_init_ms")
        return o


def _bounded_set(mapping, key, value):
    if key not in mapping and len(mapping) >= MAP_LIMIT:
        return
    mapping[key] = value


def _value(el, raw):
    if el.type == "string":
        return V.text(raw)
    if el.type == "octetArray":
        return raw
    if len(raw) > 8:
        return None
    return V.uint(raw)


def apply_record(opts, version, fields, scope_count, raw_values):
    """Fold one options record (raw bytes per field) into ``opts``."""
    got = {}
    for i, ((pen, eid, _length), raw) in enumerate(zip(fields, raw_values)):
        if version == "netflow9" and i < scope_count:
            if eid == V9_SCOPE_INTERFACE and 1 <= len(raw) <= 8:
                got.setdefault("input_if", V.uint(raw))
            continue
        el = lookup(pen, eid)
        if el is None or not el.attr or el.attr in got:
            continue
        v = _value(el, raw)
        if v is not None:
            got[el.attr] = v

    rate = _sampling_rate(got)
    if rate:
        sid = got.get("sampler_id")
        if sid is None:
            opts.rate = rate
        else:
            _bounded_set(opts.samplers, sid, rate)
    name = got.get("if_name") or got.get("if_description")
    ifindex = got.get("input_if", got.get("output_if"))
    if name and ifindex:     # ifIndex 0 is "no interface" (softflowd names its capture source so)
        _bounded_set(opts.if_names, ifindex, name)
    if got.get("app_name") and isinstance(got.get("app_id"), bytes):
        _bounded_set(opts.app_names, got["app_id"], got["app_name"])
    if got.get("sys_init_ms"):
        opts.sys_init_ms = got["sys_init_ms"]


def _sampling_rate(got):
    """1-in-N rate from whichever sampling elements the record carries; None if none."""
    interval = got.get("sampling_interval")
    if interval:
        return interval
    pi, ps = got.get("packet_interval"), got.get("packet_space")
    if pi:   # systematic count-based: pi packets selected, then ps skipped (RFC 5477)
        return max(1, (pi + (ps or 0)) // pi)
    size, population = got.get("sampling_size"), got.get("sampling_population")
    if size and population:   # random n-out-of-N
        return max(1, population // size)
    return None
