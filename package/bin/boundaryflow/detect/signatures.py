"""Signature metadata (data/signatures.csv) and the one way detectors build a Finding."""
from __future__ import annotations

from ..data import read_csv
from ..model import Finding

AI_ROLES = frozenset(("gpu_node", "storage", "inference", "management"))


class Signature(object):
    __slots__ = ("name", "signature_id", "severity", "risk_score", "category", "mitre_technique",
                 "atlas_technique", "description")

    def __init__(self, row):
        self.name = row["signature"]
        self.signature_id = row["signature_id"]
        self.severity = row["severity"]
        self.risk_score = int(row["risk_score"] or 0)
        self.category = row["category"]
        self.mitre_technique = row["mitre_technique"]
        self.atlas_technique = row["atlas_technique"]
        self.description = row["description"]


def load_signatures():
    """{name: Signature} in table order."""
    return {row["signature"]: Signature(row) for row in read_csv("signatures.csv")}


SIGNATURES = load_signatures()


def geo_of(flow, side):
    """Country/ASN of one end ("src" or "dest") for evidence; only what enrichment set."""
    d = flow.__dict__
    out = {}
    for name in ("country", "asn", "as_org", "city"):
        v = d.get(side + "_" + name)
        if v is not None:
            out[name] = v
    return out


def make_finding(signature, time, src, dest, evidence, dest_port=None, user=None, dvc=None,
                 risk_object=None):
    """A model.Finding for ``signature`` (a name in SIGNATURES)."""
    sig = SIGNATURES[signature]
    return Finding(time, sig.name, sig.signature_id, sig.severity, sig.category, src, dest,
                   dest_port=dest_port, user=user, dvc=dvc, evidence=evidence,
                   risk_object=risk_object if risk_object is not None else src)


def flow_finding(signature, flow, evidence, time=None, risk_object=None, user=None):
    """A finding about one flow: its src, dest, dest_port, user (src_user unless given), exporter
    and end time."""
    return make_finding(signature, flow.end if time is None else time, flow.src_ip, flow.dest_ip,
                        evidence, dest_port=flow.dest_port, user=user or flow.src_user, dvc=flow.exporter,
                        risk_object=risk_object)
