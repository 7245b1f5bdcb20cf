"""Enrichment: GeoIP/ASN, threat intel, identity, jobs, assets/zones/roles, app, plane, Community ID.

Contract:  enricher = Enricher(cfg);  enricher.enrich(flow)   # in place, after track oriented it
           enricher.refresh(now)      # periodic: reload changed files, refresh feeds
           enricher.health()          # dict: hit rates, per-source status messages

Fields set (names as in model.Flow): src_/dest_ country, city, lat, lon, asn, as_org, role, zone,
name, tier, internal; direction, cluster_direction, threat_match/source/category, src_user/
dest_user (time-valid at flow.end; a vendor-set user is kept), job/namespace, app (a vendor-set
app is kept), plane, community_id.

Modules: enricher (the per-flow path and caches), geoip + maxmind (databases and their download),
threat + feed_parsers + taxii (threat intel), local_lookups + timed (assets, identity, jobs),
identity_pollers (Okta / Microsoft Graph sign-ins), kvstore (a search head's KV store: ES ip_intel,
identity), apps (port table), community_id, http (TLS).
Network refreshes run in a background thread started by refresh(); the per-flow path never waits
on the network.
"""
from .enricher import AI_ROLES, Enricher

__all__ = ["Enricher", "AI_ROLES"]
