"""The scenario's address plan and the lookups a collector needs for it (DESIGN.md §5).

The plan is data (``plan.json`` next to this file, or any JSON file of the same shape): groups of
internal hosts with their asset role, zone, tier and link speed, plus the outside world (package
repositories, an offsite backup service, inference partners by country, attack destinations,
threat-intel indicators). Nothing here is known to the detectors: they only see the CSV lookups
that :func:`write_lookups` writes, exactly as a site would maintain them.
"""
from __future__ import annotations

import csv
import ipaddress
import json
import os

DEFAULT_PLAN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plan.json")
AI_ROLES = ("gpu_node", "storage", "inference", "management")


class Host(object):
    """One internal or external address with what the plan says about it."""

    __slots__ = ("ip", "name", "role", "zone", "group", "side", "country", "ports", "version")

    def __init__(self, ip, name, role="external", zone="internet", group="", side="internet",
                 country=None, ports=()):
        self.ip = ip
        self.name = name
        self.role = role
        self.zone = zone
        self.group = group
        self.side = side              # which exporter interface faces it: cluster | corporate | internet
        self.country = country
        self.ports = tuple(ports)
        self.version = ipaddress.ip_address(ip).version

    def __repr__(self):
        return "Host(%s %s %s)" % (self.name, self.ip, self.role)


def _expand(group):
    if "hosts" in group:
        ips = list(group["hosts"])
    else:
        first = ipaddress.ip_address(group["first"])
        ips = [str(first + i) for i in range(int(group["count"]))]
    labels = group.get("labels") or []
    out = []
    for n, ip in enumerate(ips, 1):
        label = labels[n - 1] if n <= len(labels) else ""
        out.append((ip, group["name"].format(n=n, label=label)))
    return out


class Plan(object):
    """The address plan: ``plan.hosts(group)``, ``plan.partners``, ``plan.repos`` ..."""

    def __init__(self, data):
        self.data = data
        self.internal_networks = data["internal_networks"]
        self.operational_hours = data["operational_hours"]
        self.timezone = data.get("timezone", "UTC")
        self.exporter = data["exporter"]
        self.groups = {}
        for g in data["groups"]:
            self.groups[g["group"]] = [
                Host(ip, name, g["role"], g["zone"], g["group"], g["side"], ports=g.get("ports", ()))
                for ip, name in _expand(g)]
        ext = data["external"]
        self.repos = [dict(r, hosts=[Host(ip, r["name"]) for ip in r["hosts"]]) for r in ext["repos"]]
        self.offsite_backup = [Host(ip, ext["offsite_backup"]["name"]) for ip in ext["offsite_backup"]["hosts"]]
        self.telemetry = [Host(ip, ext["telemetry"]["name"]) for ip in ext["telemetry"]["hosts"]]
        self.web = [Host(ip, "web") for ip in ext["web"]]
        self.file_share = [Host(ip, "file-share") for ip in ext["file_share"]]
        self.partners = [dict(p, hosts=[Host(ip, p["name"], country=p["country"]) for ip in p["hosts"]])
                         for p in ext["partners"]]
        self.unlisted_clients = [Host(ip, "unlisted-" + c["country"], country=c["country"])
                                 for c in ext["unlisted_clients"] for ip in c["hosts"]]
        self.attack_destinations = [ipaddress.ip_network(c) for c in ext["attack_destinations"]]
        self.threat_intel = ext["threat_intel"]

    @classmethod
    def load(cls, path=None):
        with open(path or DEFAULT_PLAN, encoding="utf-8") as fh:
            return cls(json.load(fh))

    def hosts(self, group):
        return self.groups[group]

    @property
    def inference_endpoints(self):
        return [h for h in self.internal_hosts() if h.role == "inference"]

    def internal_hosts(self):
        return [h for hosts in self.groups.values() for h in hosts]

    def group_rows(self):
        return self.data["groups"]


# -- lookups ------------------------------------------------------------------------------------

LOOKUP_COLUMNS = {
    "boundaryflow_assets.csv": ("cidr", "role", "zone", "name", "tier", "link_bps"),
    "boundaryflow_egress_allowlist.csv": ("cidr", "description"),
    "boundaryflow_inference_allowlist.csv": ("cidr", "description"),
    "boundaryflow_management_allowlist.csv": ("cidr", "description"),
    "boundaryflow_threat_intel.csv": ("indicator", "source", "category", "confidence"),
    "boundaryflow_identity.csv": ("ip", "user", "start", "end"),
    "boundaryflow_jobs.csv": ("ip", "job", "namespace", "start", "end"),
}

# Who may do what: the site's policy for this plan, expressed as the allowlist lookups.
_USER_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
               "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yara")


def user_of(host, index):
    return "%s.%s" % (_USER_NAMES[index % len(_USER_NAMES)], "it" if host.group == "admins" else "corp") + (
        str(index // len(_USER_NAMES)) if index >= len(_USER_NAMES) else "")


def job_of(plan, host):
    """(job, namespace) running on an AI host, or None."""
    if host.group == "gpu":
        idx = plan.hosts("gpu").index(host)
        return ("llm-pretrain-70b", "research") if idx < len(plan.hosts("gpu")) * 2 // 3 else ("chat-finetune", "applied-ml")
    if host.role == "inference":
        return ("chat-serving", "prod")
    return None


def lookup_rows(plan, start=""):
    """{file name: [row dict]} for the plan (``start`` = epoch when identities/jobs begin)."""
    groups = {g["group"]: g for g in plan.group_rows()}
    assets = []
    for name, hosts in plan.groups.items():
        g = groups[name]
        for h in hosts:
            suffix = "/32" if h.version == 4 else "/128"
            assets.append({"cidr": h.ip + suffix, "role": g["role"], "zone": g["zone"], "name": h.name,
                           "tier": g.get("tier", ""), "link_bps": str(g.get("link_bps", ""))})
        # the subnet itself, so an unplanned address in it still gets its role and zone
        assets.append({"cidr": g["cidr"], "role": g["role"], "zone": g["zone"], "name": name + "-subnet",
                       "tier": g.get("tier", ""), "link_bps": ""})
    egress = [{"cidr": r["cidr"], "description": "package/model repository: " + r["name"]} for r in plan.repos]
    egress.append({"cidr": plan.data["external"]["offsite_backup"]["cidr"],
                   "description": "offsite backup service (nightly storage replication)"})
    inference = [{"cidr": groups["users"]["cidr"], "description": "corporate users"},
                 {"cidr": groups["users6"]["cidr"], "description": "corporate users (IPv6)"}]
    inference += [{"cidr": p["cidr"], "description": "inference partner %s (%s)" % (p["name"], p["country"])}
                  for p in plan.partners]
    management = [{"cidr": groups["mgmt"]["cidr"], "description": "cluster management hosts"},
                  {"cidr": groups["admins"]["cidr"], "description": "IT administrators' workstations"}]
    identity = []
    hosts = [h for group in ("users", "users6", "admins") for h in plan.hosts(group)]
    for i, h in enumerate(hosts):
        identity.append({"ip": h.ip, "user": user_of(h, i), "start": str(start), "end": ""})
    jobs = []
    for h in plan.internal_hosts():
        j = job_of(plan, h)
        if j:
            jobs.append({"ip": h.ip, "job": j[0], "namespace": j[1], "start": str(start), "end": ""})
    return {
        "boundaryflow_assets.csv": assets,
        "boundaryflow_egress_allowlist.csv": egress,
        "boundaryflow_inference_allowlist.csv": inference,
        "boundaryflow_management_allowlist.csv": management,
        "boundaryflow_threat_intel.csv": [dict(t) for t in plan.threat_intel],
        "boundaryflow_identity.csv": identity,
        "boundaryflow_jobs.csv": jobs,
    }


def write_lookups(directory, plan=None, start=""):
    """Write every lookup CSV for the plan into ``directory``; returns the paths written."""
    plan = plan or Plan.load()
    os.makedirs(directory, exist_ok=True)
    paths = []
    for name, rows in lookup_rows(plan, start).items():
        path = os.path.join(directory, name)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=LOOKUP_COLUMNS[name], lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        paths.append(path)
    return paths
