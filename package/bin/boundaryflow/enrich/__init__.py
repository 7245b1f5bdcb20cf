"""Enrichment: GeoIP/ASN, threat intel, identity, jobs, assets/zones/roles, app, plane, Community ID.

Contract:  enricher = Enricher(cfg);  enricher.enrich(flow)   # in place, after track oriented it
           enricher.refresh(now)      # periodic: reload changed files, refresh feeds
           enricher.health()          # dict: hit rates, per-source status messages
"""
