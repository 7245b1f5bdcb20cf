"""Rows for each dashboard data source, computed in Python from replayed events.

Nothing here runs SPL, so every data source that a panel shows has a function below computing the
same table its query would return over the events (the query text is in content/dashboards/*.json;
keep the two in step). ``now`` is the end of the replayed scenario. The preview swaps each
ds.search/ds.chain for a ds.test holding these rows.
"""
from __future__ import annotations

import collections
import json
import statistics
import time as _time

GIB = 1073741824.0
AI_ROLES = ("gpu_node", "storage", "inference", "management")


class Events(object):
    def __init__(self, path):
        self.flows, self.findings, self.health = [], [], []
        by_type = {"boundaryflow:flow": self.flows, "boundaryflow:finding": self.findings,
                   "boundaryflow:health": self.health}
        with open(path) as fh:
            for line in fh:
                env = json.loads(line)
                ev = dict(env["event"])
                ev["_time"] = env["time"]
                ev["host"] = env.get("host")
                by_type.get(env["sourcetype"], []).append(ev)
        times = [e["_time"] for e in self.flows] or [_time.time()]
        self.now = max(times)


def table(fields, rows):
    """ds.test data: {"fields": [{"name"}], "columns": [[...] per field]}."""
    return {"fields": [{"name": f} for f in fields],
            "columns": [[r.get(f) for r in rows] for f in fields]}


def _sum_by(events, key, value):
    out = collections.defaultdict(float)
    for e in events:
        k = key(e)
        if k is not None:
            out[k] += value(e)
    return out


def _timechart(events, span, by, value, limit=8, agg="sum"):
    """timechart span=<span> <agg>(value) by <by>: top ``limit`` series, the rest as OTHER."""
    totals = _sum_by(events, by, value)
    keep = [k for k, _v in sorted(totals.items(), key=lambda kv: -kv[1])][:limit]
    buckets = collections.defaultdict(lambda: collections.defaultdict(float))
    for e in events:
        k = by(e)
        if k is None:
            continue
        name = k if k in keep else "OTHER"
        b = int(e["_time"] // span * span)
        if agg == "max":
            buckets[b][name] = max(buckets[b][name], value(e))
        else:
            buckets[b][name] += value(e)
    if not buckets:
        return table(["_time"], [])
    series = keep + (["OTHER"] if any("OTHER" in v for v in buckets.values()) else [])
    start, end = min(buckets), max(buckets)
    rows = []
    for b in range(start, end + span, span):
        row = {"_time": _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(b))}
        for s in series:
            # timechart leaves empty buckets null for max (a gap), 0 for sums
            row[s] = buckets[b].get(s, None if agg == "max" else 0)
        rows.append(row)
    return table(["_time"] + series, rows)


def _label(e, side):
    return e.get(side + "_name") or e.get(side)


def _storage_side(e):
    return "src" if e.get("src_role") == "storage" else "dest"


def _other(side):
    return "dest" if side == "src" else "src"


def _gib(x, digits=2):
    return round(x / GIB, digits)


# -- AI Cluster Boundary overview ---------------------------------------------------------------
def overview(ev):
    flows = ev.flows
    planes = _sum_by(flows, lambda e: e.get("plane"), lambda e: e["bytes"])
    pairs = _sum_by(flows, lambda e: (_label(e, "src"), _label(e, "dest"), e.get("plane")), lambda e: e["bytes"])
    top = sorted(pairs.items(), key=lambda kv: -kv[1])[:10]
    sigs = collections.Counter(f["signature"] for f in ev.findings)
    return {
        "ds_total_gib": table(["GiB"], [{"GiB": _gib(sum(e["bytes"] for e in flows), 1)}]),
        "ds_total_flows": table(["flows"], [{"flows": sum(e.get("flow_count", 1) for e in flows)}]),
        "ds_plane_bytes": table(["plane", "GiB"], [{"plane": p, "GiB": _gib(b)} for p, b in
                                                  sorted(planes.items(), key=lambda kv: -kv[1])]),
        "ds_findings_total": table(["findings"], [{"findings": len(ev.findings)}]),
        "ds_ai_hosts": table(["ai_hosts"], [{"ai_hosts": len({e["src"] for e in flows
                                                              if e.get("src_role") in AI_ROLES})}]),
        "ds_plane_time": _timechart(flows, 3600, lambda e: e.get("plane"), lambda e: e["bytes"]),
        "ds_top_pairs": table(["src_label", "dest_label", "plane", "GiB"],
                              [{"src_label": k[0], "dest_label": k[1], "plane": k[2], "GiB": _gib(b)} for k, b in top]),
        "ds_findings_sig": table(["signature", "count"], [{"signature": s, "count": c} for s, c in sigs.most_common()]),
    }


# -- Storage and Checkpoints ------------------------------------------------------------------
def storage(ev, assets):
    st = [e for e in ev.flows if e.get("plane") in ("ingestion", "checkpoint")]
    for e in st:
        side = _storage_side(e)
        e["_storage"] = e.get(side)
        e["_storage_name"] = _label(e, side)
        e["_gpu_name"] = _label(e, _other(side))
        e["_tier"] = e.get(side + "_tier") or "untiered"
    pairs = _sum_by([e for e in st if e["plane"] == "ingestion"], lambda e: (e["_storage_name"], e["_gpu_name"]),
                    lambda e: e["bytes"])
    tiers = collections.defaultdict(lambda: collections.defaultdict(float))
    for e in st:
        tiers[e["_tier"]][e["plane"]] += e["bytes"]
    tier_planes = sorted({p for t in tiers.values() for p in t})
    tier_rows = [dict({"tier": t}, **{p: _gib(v.get(p, 0), 1) for p in tier_planes})
                 for t, v in sorted(tiers.items(), key=lambda kv: -sum(kv[1].values()))]
    # utilization: bytes per 5 minutes per storage endpoint against link_bps of its asset row
    per5 = _sum_by(st, lambda e: (e["_storage"], e["_storage_name"], int(e["_time"] // 300)), lambda e: e["bytes"])
    util = collections.defaultdict(list)
    link = {}
    for (ip, name, _b), b in per5.items():
        bps = assets.link_bps(ip)
        if bps:
            link[name] = bps
            util[name].append(100.0 * b * 8 / 300 / bps)
    util_rows = sorted(({"storage_name": n, "link_Gbps": round(link[n] / 1e9), "peak_pct": round(max(v), 1),
                         "avg_pct": round(sum(v) / len(v), 1)} for n, v in util.items()),
                       key=lambda r: -r["peak_pct"])
    ck = [e for e in ev.flows if e.get("plane") == "checkpoint"]
    for e in ck:
        e["_job"] = e.get("job") or _label(e, _other(_storage_side(e)))
    per_job = _sum_by(ck, lambda e: (e["_job"], int(e["_time"] // 300) * 300), lambda e: e["bytes"])
    jobs = collections.defaultdict(list)
    for (job, b), v in sorted(per_job.items()):
        jobs[job].append((b, v))
    ck_rows = []
    for job, pts in jobs.items():
        gaps = [(pts[i][0] - pts[i - 1][0]) / 60 for i in range(1, len(pts))]
        ck_rows.append({"job": job, "checkpoints": len(pts),
                        "cadence_minutes": round(statistics.median(gaps)) if gaps else None,
                        "avg_GiB": _gib(sum(v for _b, v in pts) / len(pts))})
    ck_rows.sort(key=lambda r: -r["checkpoints"])
    return {
        "ds_storage_time": _timechart(st, 600, lambda e: e["_storage_name"], lambda e: e["bytes"]),
        "ds_pairs": table(["storage_name", "gpu_name", "GiB"],
                          [{"storage_name": k[0], "gpu_name": k[1], "GiB": _gib(b)}
                           for k, b in sorted(pairs.items(), key=lambda kv: -kv[1])[:12]]),
        "ds_tiers": table(["tier"] + tier_planes, tier_rows),
        "ds_util": table(["storage_name", "link_Gbps", "peak_pct", "avg_pct"], util_rows),
        "ds_ckpt": table(["job", "checkpoints", "cadence_minutes", "avg_GiB"], ck_rows),
        "ds_ckpt_time": _timechart(ck, 600, lambda e: e["_job"], lambda e: e["bytes"]),
    }


# -- Inference ----------------------------------------------------------------------------------
def inference(ev):
    inf = [e for e in ev.flows if e.get("plane") == "inference"]
    fc = lambda e: e.get("flow_count", 1)  # noqa: E731
    countries = _sum_by(inf, lambda e: e.get("src_country") or "internal", fc)
    clients = collections.defaultdict(lambda: {"requests": 0, "bytes": 0, "user": set(), "country": set()})
    for e in inf:
        c = clients[e["src"]]
        c["requests"] += fc(e)
        c["bytes"] += e["bytes"]
        if e.get("src_user"):
            c["user"].add(e["src_user"])
        if e.get("src_country"):
            c["country"].add(e["src_country"])
    top = sorted(clients.items(), key=lambda kv: -kv[1]["requests"])[:10]
    day_ago = ev.now - 86400
    base = collections.defaultdict(lambda: [0, 0, None])       # last 24h, before, first seen
    for e in inf:
        b = base[_label(e, "dest")]
        b[0 if e["_time"] >= day_ago else 1] += fc(e)
        b[2] = e["_time"] if b[2] is None else min(b[2], e["_time"])
    baseline_rows = []
    for ep, (last, before, first) in sorted(base.items()):
        days = max(1.0, round((day_ago - first) / 86400.0, 1))
        per_day = round(before / days)
        baseline_rows.append({"endpoint": ep, "last_24h": last, "baseline_per_day": per_day,
                              "ratio": round(last / float(per_day), 2) if per_day else None})
    return {
        "ds_inf_total": table(["requests"], [{"requests": sum(fc(e) for e in inf)}]),
        "ds_inf_sources": table(["sources"], [{"sources": len({e["src"] for e in inf})}]),
        "ds_inf_countries": table(["countries"], [{"countries": len({e["src_country"] for e in inf
                                                                      if e.get("src_country")})}]),
        "ds_inf_time": _timechart(inf, 1800, lambda e: _label(e, "dest"), fc),
        "ds_inf_country": table(["country", "requests"], [{"country": k, "requests": v} for k, v in
                                                          sorted(countries.items(), key=lambda kv: -kv[1])[:10]]),
        "ds_inf_clients": table(["src", "user", "country", "requests", "MiB"], [
            {"src": ip, "user": ", ".join(sorted(c["user"])), "country": ", ".join(sorted(c["country"])),
             "requests": c["requests"], "MiB": round(c["bytes"] / 1048576.0, 1)} for ip, c in top]),
        "ds_inf_baseline": table(["endpoint", "last_24h", "baseline_per_day", "ratio"], baseline_rows),
    }


# -- Security Findings --------------------------------------------------------------------------
def findings(ev):
    fs = ev.findings
    sigs = collections.Counter(f["signature"] for f in fs)
    latest = sorted(fs, key=lambda f: -f["_time"])[:15]
    origins = _sum_by([e for e in ev.flows if e.get("plane") == "inference" and e.get("src_lat") is not None],
                      lambda e: (round(e["src_lat"], 1), round(e["src_lon"], 1)), lambda e: e.get("flow_count", 1))
    ext = collections.defaultdict(lambda: {"bytes": 0, "hosts": set(), "country": set(), "threat": set()})
    for e in ev.flows:
        if e.get("plane") == "outbound":
            x = ext[e["dest"]]
            x["bytes"] += e["bytes_out"]
            x["hosts"].add(e["src"])
            if e.get("dest_country"):
                x["country"].add(e["dest_country"])
            if e.get("threat_category"):
                x["threat"].add(e["threat_category"])
    top_ext = sorted(ext.items(), key=lambda kv: -kv[1]["bytes"])[:10]
    return {
        "ds_find_total": table(["findings"], [{"findings": len(fs)}]),
        "ds_find_high": table(["high"], [{"high": sum(1 for f in fs if f["severity"] in ("high", "critical"))}]),
        "ds_find_hosts": table(["risk_objects"], [{"risk_objects": len({f["risk_object"] for f in fs})}]),
        "ds_find_sig": table(["signature", "count"], [{"signature": s, "count": c} for s, c in sigs.most_common()]),
        "ds_find_sev": _timechart(fs, 3600, lambda f: f["severity"], lambda f: 1),
        "ds_find_latest": table(["time", "signature", "severity", "src", "dest", "dest_port", "user"], [
            dict(f, time=_time.strftime("%Y-%m-%d %H:%M", _time.gmtime(f["_time"]))) for f in latest]),
        "ds_origins": table(["lat", "lon", "requests"], [{"lat": k[0], "lon": k[1], "requests": v}
                                                          for k, v in origins.items()]),
        "ds_ext": table(["dest", "country", "ai_hosts", "MiB_sent", "threat"], [
            {"dest": d, "country": ", ".join(sorted(x["country"])), "ai_hosts": len(x["hosts"]),
             "MiB_sent": round(x["bytes"] / 1048576.0, 1), "threat": ", ".join(sorted(x["threat"]))}
            for d, x in top_ext]),
    }


# -- Collector Health ---------------------------------------------------------------------------
def health(ev):
    exp = [h for h in ev.health if h.get("scope") == "exporter"]
    col = [h for h in ev.health if h.get("scope") == "collector"]
    latest = {}
    for h in sorted(exp, key=lambda h: h["_time"]):
        latest[(h["host"], h["exporter"])] = h
    rows = []
    for (host, exporter), h in sorted(latest.items()):
        silent = ev.now - (h.get("last_seen") or 0)
        rows.append({"host": host, "exporter": exporter, "status": "silent" if silent > 900 else "ok",
                     "last_seen": _time.strftime("%Y-%m-%d %H:%M:%S", _time.gmtime(h.get("last_seen") or 0)),
                     "datagrams": h.get("datagrams"), "flows": h.get("flows"), "decode_errors": h.get("decode_errors"),
                     "template_misses": h.get("template_misses"), "sequence_gaps": h.get("sequence_gaps")})
    last_col = {}
    for h in sorted(col, key=lambda h: h["_time"]):
        last_col[h["host"]] = h
    col_rows = [{"host": host, "flows_in": h.get("flows_in"), "events_out": h.get("events_out"),
                 "reduction_ratio": h.get("reduction_ratio"), "late_records": h.get("late_records"),
                 "socket_drops": h.get("socket_drops"), "queue_depth": h.get("queue_depth")}
                for host, h in sorted(last_col.items())]
    enrich = {}
    if last_col:
        e = list(last_col.values())[-1].get("enrichment") or {}
        enrich = {"rate": "hit rate", "cache": e.get("enrich_cache_hit_rate"), "geo": e.get("enrich_geo_hit_rate"),
                  "asn": e.get("enrich_asn_hit_rate"), "asset": e.get("enrich_asset_hit_rate"),
                  "identity": e.get("enrich_identity_hit_rate"), "job": e.get("enrich_job_hit_rate")}
    return {
        "ds_exp": table(["host", "exporter", "status", "last_seen", "datagrams", "flows", "decode_errors",
                         "template_misses", "sequence_gaps"], rows),
        "ds_exp_count": table(["exporters"], [{"exporters": len({r["exporter"] for r in rows})}]),
        "ds_exp_silent": table(["silent"], [{"silent": sum(1 for r in rows if r["status"] == "silent")}]),
        "ds_col": table(["host", "flows_in", "events_out", "reduction_ratio", "late_records", "socket_drops",
                         "queue_depth"], col_rows),
        "ds_enrich": table(["rate", "cache", "geo", "asn", "asset", "identity", "job"], [enrich] if enrich else []),
        "ds_flows_time": _timechart(exp, 300, lambda h: h["exporter"], lambda h: h.get("flows") or 0, agg="max"),
        "ds_errors": table(["exporter", "decode_errors", "template_misses", "sequence_gaps"], [
            {k: r[k] for k in ("exporter", "decode_errors", "template_misses", "sequence_gaps")} for r in rows]),
    }


def all_rows(events, assets):
    """{dashboard stem: {data source id: ds.test data}}."""
    return {"boundaryflow_overview": overview(events), "boundaryflow_storage": storage(events, assets),
            "boundaryflow_inference": inference(events), "boundaryflow_findings": findings(events),
            "boundaryflow_health": health(events)}
