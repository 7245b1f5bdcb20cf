"""Inference access signatures: unauthorized source, off-hours access and new source country.

Inference access = destination role inference AND destination port in ``inference_ports``; the
endpoint is the destination address. The volume baseline lives in volume.py.

New geo compares the client's country (src_country from enrichment; clients without one, such as
internal addresses without GeoIP data, are skipped) with the countries seen for that endpoint
during learning. An endpoint first used after learning has learned none, so each country it
serves is reported once. Off-hours uses the time the access began (the record's start) in the
configured time zone, and de-duplicates per local calendar day.
"""
from __future__ import annotations

from .bounded import Dedup, LRU
from .signatures import flow_finding, geo_of


class InferenceDetector(object):

    def __init__(self, det, allowlist, hours, learning, limits):
        self.allowlist = allowlist
        self.hours = hours
        self.learning = learning
        self.per_endpoint = limits["countries_per_endpoint"]
        self.unauthorized = Dedup(det.dedup_window, limits["dedup"])      # src per 24 h
        self.off_hours = Dedup(2 * 86400.0, limits["dedup"])              # (src, endpoint, local day)
        self.countries = LRU(limits["endpoints"])                         # endpoint -> set(country)
        self.new_geo = Dedup(None, limits["dedup"])                       # (endpoint, country), once

    def observe(self, flow, late, learning, out):
        src = flow.src_ip
        t = flow.end
        row = self.allowlist.match(src)
        if row is None and self.unauthorized.allows(src, t):
            self.unauthorized.first(src, t)
            out.append(flow_finding("inference_unauthorized_source", flow, {
                "endpoint": flow.dest_ip, "endpoint_port": flow.dest_port,
                "allowlist": self.allowlist.evidence(None), "src_geo": geo_of(flow, "src"),
                "bytes_in": flow.bytes_in, "bytes_out": flow.bytes_out}))
        # The access began at the record's start; a connection opened at 18:59 is in-hours access.
        access = flow.start or t
        inside, day = self.hours.check(access)
        if not inside and self.off_hours.first((src, flow.dest_ip, day), t):
            out.append(flow_finding("inference_off_hours", flow, {
                "endpoint": flow.dest_ip, "access_time": access,
                "local_time": self.hours.local_time(access), "local_date": day,
                "timezone": self.hours.timezone, "operational_hours": self.hours.describe(),
                "src_geo": geo_of(flow, "src")}))
        country = flow.src_country
        if country:
            self._geo(flow, country, late, learning, out)

    def _geo(self, flow, country, late, learning, out):
        ep = flow.dest_ip
        if learning:
            if not late:      # the learning window is closed to late records
                seen = self.countries.get(ep)
                if seen is None:
                    seen = set()
                    self.countries.put(ep, seen)
                if len(seen) < self.per_endpoint:
                    seen.add(country)
            return
        seen = self.countries.get(ep)
        if seen is not None and country in seen:
            return
        if self.new_geo.first((ep, country), flow.end):
            out.append(flow_finding("inference_new_geo", flow, {
                "endpoint": ep, "country": country, "first_seen": flow.start or flow.end,
                "learned_countries": sorted(seen) if seen else [],
                "learning_start": self.learning.start, "learning_end": self.learning.end,
                "src_geo": geo_of(flow, "src")}))

    def prune(self, horizon):
        self.unauthorized.prune(horizon)
        self.off_hours.prune(horizon)

    def sizes(self):
        return {"geo_endpoints": len(self.countries),
                "geo_countries": sum(map(len, self.countries.values())),
                "inference_dedup": len(self.unauthorized) + len(self.off_hours) + len(self.new_geo)}

    def evictions(self):
        return {"geo_endpoints": self.countries.evictions,
                "inference_dedup": self.unauthorized.evictions + self.off_hours.evictions + self.new_geo.evictions}

    def to_state(self):
        return {"countries": [[ep, sorted(s)] for ep, s in self.countries.items()],
                "unauthorized": self.unauthorized.to_state(), "off_hours": self.off_hours.to_state(),
                "new_geo": self.new_geo.to_state()}

    def load_state(self, st):
        for ep, cs in st.get("countries", ()):
            self.countries.put(ep, set(cs))
        self.unauthorized.load_state(st.get("unauthorized"))
        self.off_hours.load_state(st.get("off_hours"))
        self.new_geo.load_state(st.get("new_geo"))
