"""The Enricher: everything enrichment knows about a flow, set in place in about a microsecond.

Per-address facts (GeoIP, ASN, asset role/zone/name/tier, internal or not, threat match, packed
bytes for Community ID, and the address's identity and job intervals) are computed once per
address and cached in a bounded dict; the cache is dropped whenever a source reloads. Per-flow
work is then a few dict lookups: direction, cluster_direction, app, plane, the time-valid
user/job and Community ID.
"""
from __future__ import annotations

import binascii
import threading
import time

from ..lookups import CidrTable, parse_address
from ..model import storage_plane
from . import apps
from .community_id import PORTED, CommunityId, ported_packer, sha1
from .geoip import KIND_ASN, KIND_CITY, GeoDatabase
from .local_lookups import ASSETS, IDENTITY, JOBS, WatchedLookup
from .threat import ThreatIntel
from .timed import TimedTable, merged, value_at

AI_ROLES = frozenset(("gpu_node", "storage", "inference", "management"))
_CID_SEED = 0                            # the Community ID seed Zeek and Suricata use by default
_b64 = binascii.b2a_base64
_GEO_CITY = ("country", "city", "lat", "lon")
_ASSET_FIELDS = ("zone", "name", "tier")
_FIELD_NAMES = ("internal", "role", "zone", "name", "tier", "asn", "as_org") + _GEO_CITY
_SRC = {k: "src_" + k for k in _FIELD_NAMES}
_DEST = {k: "dest_" + k for k in _FIELD_NAMES}

# A cache entry is a tuple (the cheapest thing to read per flow):
#   0 src_fields  1 dest_fields   {"src_role": ...} / {"dest_role": ...}, merged into the flow
#   2 packed      network-order bytes (b"" for a non-address: no Community ID)
#   3 internal    4 role          5 is_ai (role in AI_ROLES)
#   6 threat      (address, source, category) or None
#   7 timed       (user intervals, job intervals) or None when the address has neither
#   8 pack        the Community ID packer for a ported protocol with this address as source
_UNPARSED = ({}, {}, b"", False, None, False, None, None, None)    # not an address


class Enricher(object):
    """``Enricher(cfg)``; ``enrich(flow)`` (oriented flow, in place); ``refresh(now)``; ``health()``."""

    def __init__(self, cfg, geoip_mode=None, background=True):
        self.cfg = cfg
        en = cfg.enrichment
        self._cache = {}
        self._cache_max = en.cache_size
        self._shared_fields = {}        # address fields -> their (src_, dest_) dicts, see _named_fields
        self._internal = CidrTable((net, True) for net in en.internal_networks)
        self._apps = apps.load_app_ports()
        self._cid = CommunityId().compute
        self._inference_ports = cfg.detection.inference_ports
        self._management_ports = cfg.detection.management_ports
        self.geo_city = GeoDatabase(en.geoip_city_db, KIND_CITY, geoip_mode)
        self.geo_asn = GeoDatabase(en.geoip_asn_db, KIND_ASN, geoip_mode)
        self.lookups = {n: WatchedLookup(en.lookups_dir, n) for n in (ASSETS, IDENTITY, JOBS)}
        self.threat = ThreatIntel(cfg)
        self.identity_pollers = _identity_pollers(cfg)
        self.kvstore = _kv_collections(cfg)       # search-head KV store pulls (inside Splunk)
        self.threat.extra_sources.extend(c for c in self.kvstore if c.kind == "threat")
        self.maxmind = _maxmind_updater(cfg, self.geo_city, self.geo_asn)
        self._identity = TimedTable()
        self._background = background
        self._worker = None
        self._remote_changed = False
        # counters for health(): flows, address-cache misses, per-address source hits
        self.flows = self.misses = self.threat_flows = self.identity_flows = self.job_flows = 0
        self._addr = {"external": 0, "geo": 0, "asn": 0, "asset": 0}
        self._reload_local(0.0)
        if background:      # fetch remote sources now, so the first refresh() can apply them
            self._start_remote(time.time(), wait=False)

    # -- per flow ---------------------------------------------------------------------------
    def enrich(self, flow):
        d = flow.__dict__
        cache = self._cache
        s = cache.get(flow.src_ip) or self._miss(flow.src_ip)      # entries are non-empty tuples
        t = cache.get(flow.dest_ip) or self._miss(flow.dest_ip)
        self.flows += 1
        d.update(s[0])
        d.update(t[1])
        si, di = s[3], t[3]
        if si is not di:
            d["direction"] = "outbound" if si else "inbound"
        sa, da = s[5], t[5]
        if sa:
            d["cluster_direction"] = "internal" if da else "egress"
        elif da:
            d["cluster_direction"] = "ingress"
        threat = s[6] or t[6]
        if threat is not None:
            d["threat_match"], d["threat_source"], d["threat_category"] = threat
            self.threat_flows += 1
        if s[7] is not None or t[7] is not None:      # (users, jobs) intervals of either end
            self._timed(flow, d, s[7], t[7])
        proto, sp, dp = flow.protocol_number, flow.src_port, flow.dest_port
        if flow.app is None:
            app = self._apps.get((proto << 16) | dp) or self._apps.get((proto << 16) | sp)
            if app is not None:
                d["app"] = app
        if sa or da:
            # plane (DESIGN.md 3); inlined: this runs for most flows at an AI cluster boundary
            sr, dr = s[4], t[4]
            if dr == "inference" and dp in self._inference_ports:
                d["plane"] = "inference"
            elif (sr == "gpu_node" and dr == "storage") or (sr == "storage" and dr == "gpu_node"):
                d["plane"] = storage_plane(sr, dr, flow.bytes_out, flow.bytes_in)
            elif da and dp in self._management_ports:
                d["plane"] = "management"
            elif sa and not di:
                d["plane"] = "outbound"
            else:
                d["plane"] = "other"
        else:
            d["plane"] = "other"
        sb, tb = s[2], t[2]
        if sb and tb:
            if proto in PORTED:
                # CommunityId.compute for TCP/UDP/SCTP, inlined (same bytes, same hash, checked
                # by test_enrich_fast_paths): nearly every flow takes this path, and the call
                # with its protocol dispatch costs ~15% of the hashing itself
                if sb < tb or (sb == tb and sp <= dp):
                    data = s[8](_CID_SEED, sb, tb, proto, sp, dp)
                else:
                    data = s[8](_CID_SEED, tb, sb, proto, dp, sp)
                d["community_id"] = "1:" + _b64(sha1(data).digest(), newline=False).decode("ascii")
            else:
                d["community_id"] = self._cid(sb, tb, proto, sp, dp, flow.icmp_type, flow.icmp_code)

    def _timed(self, flow, d, src_timed, dest_timed):
        su, sj = src_timed if src_timed is not None else (None, None)
        du, dj = dest_timed if dest_timed is not None else (None, None)
        if su is not None or du is not None:
            self._users(flow, d, su, du)
        if sj is not None or dj is not None:
            self._job(flow, d, sj, dj)

    def _users(self, flow, d, src_iv, dest_iv):
        t = flow.end
        hit = False
        if src_iv is not None and flow.src_user is None:
            user = value_at(src_iv, t)
            if user is not None:
                d["src_user"] = user
                hit = True
        if dest_iv is not None and flow.dest_user is None:
            user = value_at(dest_iv, t)
            if user is not None:
                d["dest_user"] = user
                hit = True
        if hit:
            self.identity_flows += 1

    def _job(self, flow, d, src_iv, dest_iv):
        # a flow has one job: the initiator's when it runs one, else the responder's
        job = value_at(src_iv, flow.end) if src_iv is not None else None
        if job is None and dest_iv is not None:
            job = value_at(dest_iv, flow.end)
        if job is not None:
            d["job"], d["namespace"] = job
            self.job_flows += 1

    # -- per address --------------------------------------------------------------------------
    def _miss(self, ip):
        self.misses += 1
        if len(self._cache) >= self._cache_max:
            self._drop_cache()       # bounded; refilling is cheap compared with an LRU per flow
        entry = self._address(ip)
        self._cache[ip] = entry
        return entry

    def _address(self, ip):
        """The cache entry of one address (layout above)."""
        parsed = parse_address(ip)
        if parsed is None:
            return _UNPARSED
        version, n, packed, text = parsed
        internal = self._internal.lookup_int(n, version) is not None
        fields = {"internal": internal}
        asset = self.lookups[ASSETS].table.lookup_int(n, version)
        role = None
        if asset:
            self._addr["asset"] += 1
            role = (asset.get("role") or "").lower() or None     # "GPU_Node" is gpu_node
            if role:
                fields["role"] = role
            for k in _ASSET_FIELDS:
                if asset.get(k):
                    fields[k] = asset[k]
        geo = asn = None
        if not internal:      # (a stray private address outside internal_networks just misses)
            self._addr["external"] += 1
            geo = self.geo_city.lookup(ip)
            if geo is not None:
                self._addr["geo"] += 1
                for k, v in zip(_GEO_CITY, geo):
                    if v is not None:
                        fields[k] = v
            asn = self.geo_asn.lookup(ip)
            if asn is not None:
                self._addr["asn"] += 1
                fields["asn"] = asn[0]
                if asn[1]:
                    fields["as_org"] = asn[1]
        threat = self.threat.lookup_int(n, version)
        if threat is not None:
            threat = (ip, threat[0], threat[1])
        # the identity and jobs lookups are keyed by canonical text (e.g. compressed IPv6)
        users, jobs = self._identity.get(text), self.lookups[JOBS].table.get(text)
        if geo is None and asn is None:
            shared_key = tuple(fields.items())        # a bool and strings from the lookups
        else:
            # GeoIP values may compare equal yet print differently (1 / 1.0, 0.0 / -0.0), or be
            # unhashable in a custom database: key them by their exact spelling
            shared_key = repr(fields)
        src, dest = self._named_fields(shared_key, fields)
        return (src, dest, packed, internal, role, role in AI_ROLES, threat,
                (users, jobs) if users is not None or jobs is not None else None, ported_packer(packed))

    def _named_fields(self, key, fields):
        """({"src_" + name: value}, {"dest_" + name: value}) for an address's fields, shared by
        every address with the same fields (``key``): all hosts of an asset row, the external
        addresses of one city and AS. Far fewer objects for the per-flow path to pull into the
        CPU cache than a pair of dicts per address, which measurably cuts the per-flow cost.
        The dicts are never modified once built, and depend on nothing but the key."""
        shared = self._shared_fields.get(key)
        if shared is None:
            src, dest = {}, {}
            for k, v in fields.items():     # a plain loop: half the cost of two comprehensions
                src[_SRC[k]] = v
                dest[_DEST[k]] = v
            shared = self._shared_fields[key] = (src, dest)
        return shared

    def _drop_cache(self):
        # the shared fields go too: at most one per cached address, so never more than the cache
        self._cache.clear()
        self._shared_fields.clear()

    # -- periodic -----------------------------------------------------------------------------
    def refresh(self, now=None, wait=False):
        """Reload changed files now; run network refreshes (remote feeds, identity pollers, MaxMind
        download) in a background thread so a slow server never stalls the collector. New threat
        intel is swapped in by that thread; the address cache (and so every cached address) is
        refreshed, and new identities and databases applied, on the next call (``wait=True``: run
        them here and apply right away). Returns True when the address cache was dropped."""
        now = time.time() if now is None else now
        changed = self._reload_local(now)
        self._start_remote(now, wait)
        if self._remote_changed:
            self._remote_changed = False
            self._apply_remote()
            changed = True
        if changed:
            self._drop_cache()
        return changed

    def _reload_local(self, now):
        changed = False
        for name, lk in self.lookups.items():
            if lk.reload_if_changed():
                changed = True
                if name == IDENTITY:
                    self._rebuild_identity()
        changed = self.geo_city.reload_if_changed() or changed
        changed = self.geo_asn.reload_if_changed() or changed
        return self.threat.refresh_local(now) or changed

    def _apply_remote(self):
        # the threat table was rebuilt by the refresh thread; the rest is cheap
        self._rebuild_identity()
        self.geo_city.reload_if_changed()
        self.geo_asn.reload_if_changed()

    def _start_remote(self, now, wait):
        if self._worker is not None and self._worker.is_alive():
            if not wait:
                return
            self._worker.join()
        tasks = self.threat.remote_due(now) + [p for p in self.identity_pollers if p.due(now)]
        tasks += [c for c in self.kvstore if c.due(now)]
        if self.maxmind is not None and self.maxmind.due(now):
            tasks.append(self.maxmind)
        if not tasks:
            return

        def run():
            changed = feeds_changed = False
            for task in tasks:
                try:
                    if task.refresh(now):
                        changed = True
                        feeds_changed = (feeds_changed or task in self.threat.feeds
                                         or task in self.threat.extra_sources)
                except Exception as e:        # a task must never kill the collector
                    task.status = "error: %s: %s" % (type(e).__name__, e)
            if feeds_changed:
                self.threat.rebuild()
            if changed:
                self._remote_changed = True

        if wait or not self._background:
            run()
        else:
            self._worker = threading.Thread(target=run, name="boundaryflow-enrich-refresh", daemon=True)
            self._worker.start()

    def _rebuild_identity(self):
        tables = [self.lookups[IDENTITY].table] + [p.table for p in self.identity_pollers]
        tables += [c.table for c in self.kvstore if c.kind == "identity"]
        self._identity = merged(*tables) if len(tables) > 1 else tables[0]

    def health(self):
        flows = self.flows
        looked_up = 2 * flows
        ext = self._addr["external"]
        out = {
            "enrich_flows": flows,
            "enrich_cache_hit_rate": round(1.0 - self.misses / looked_up, 4) if looked_up else None,
            "enrich_cached_addresses": len(self._cache),
            "enrich_geo_hit_rate": round(self._addr["geo"] / ext, 4) if ext and self.geo_city.active else None,
            "enrich_asn_hit_rate": round(self._addr["asn"] / ext, 4) if ext and self.geo_asn.active else None,
            "enrich_asset_hit_rate": round(self._addr["asset"] / self.misses, 4) if self.misses else None,
            "enrich_threat_match_rate": round(self.threat_flows / flows, 6) if flows else None,
            "enrich_identity_hit_rate": round(self.identity_flows / flows, 4) if flows else None,
            "enrich_job_hit_rate": round(self.job_flows / flows, 4) if flows else None,
            "geoip_city": self.geo_city.status,
            "geoip_asn": self.geo_asn.status,
            "assets": self.lookups[ASSETS].status,
            "identity": self.lookups[IDENTITY].status,
            "jobs": self.lookups[JOBS].status,
        }
        out.update(self.threat.health())
        for p in self.identity_pollers:
            out["identity_poller:" + p.name] = p.status
        for c in self.kvstore:
            out["kvstore:" + c.name] = c.status
            out["kvstore_records:" + c.name] = c.records
        if self.maxmind is not None:
            out["maxmind_download"] = self.maxmind.status
        return out

    def close(self):
        if self._worker is not None:
            self._worker.join(timeout=5)
        self.geo_city.close()
        self.geo_asn.close()


def _identity_pollers(cfg):
    from .identity_pollers import configured_pollers
    return configured_pollers(cfg)


def _kv_collections(cfg):
    from .kvstore import configured_collections
    return configured_collections(cfg)


def _maxmind_updater(cfg, city, asn):
    from .maxmind import configured_updater
    return configured_updater(cfg, city, asn)
