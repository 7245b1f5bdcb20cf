"""Per-record policy signatures: threat_intel_match, management_unexpected_source, rdma_on_frontend.

They need no window, so late records are still judged (and de-duplicated) like any other.
"""
from __future__ import annotations

from .bounded import Dedup
from .signatures import flow_finding, geo_of

ROCE_V2_PORT = 4791
PROTO_UDP = 17


class PolicyDetector(object):

    def __init__(self, det, management_allowlist, limits):
        self.management_allowlist = management_allowlist
        self.threat = Dedup(det.dedup_window, limits["dedup"])
        self.management = Dedup(det.dedup_window, limits["dedup"])
        self.rdma = Dedup(det.dedup_window, limits["dedup"])

    def threat_intel(self, flow, out):
        key = (flow.src_ip, flow.dest_ip)
        if not self.threat.first(key, flow.end):
            return
        matched = flow.threat_match
        # The risk belongs to our side of the conversation, not to the indicator.
        ours = flow.dest_ip if matched == flow.src_ip else flow.src_ip
        out.append(flow_finding("threat_intel_match", flow, {
            "threat_match": matched, "threat_source": flow.threat_source,
            "threat_category": flow.threat_category,
            "matched_side": "src" if matched == flow.src_ip else ("dest" if matched == flow.dest_ip else None),
            "bytes_out": flow.bytes_out, "bytes_in": flow.bytes_in,
            "src_role": flow.src_role, "dest_role": flow.dest_role,
            "src_geo": geo_of(flow, "src"), "dest_geo": geo_of(flow, "dest")}, risk_object=ours,
            user=flow.dest_user if ours == flow.dest_ip else None))

    def management_access(self, flow, out):
        """A record to a management port of an AI host."""
        row = self.management_allowlist.match(flow.src_ip)
        if row is not None:
            return
        if self.management.first((flow.src_ip, flow.dest_ip), flow.end):
            out.append(flow_finding("management_unexpected_source", flow, {
                "dest_role": flow.dest_role, "port": flow.dest_port,
                "transport_number": flow.protocol_number,
                "allowlist": self.management_allowlist.evidence(None),
                "src_internal": flow.src_internal, "src_role": flow.src_role,
                "bytes_out": flow.bytes_out, "bytes_in": flow.bytes_in, "src_geo": geo_of(flow, "src")}))

    def rdma_frontend(self, flow, out):
        """A UDP 4791 record with exactly one AI-infrastructure end."""
        if self.rdma.first((flow.src_ip, flow.dest_ip), flow.end):
            out.append(flow_finding("rdma_on_frontend", flow, {
                "src_role": flow.src_role, "dest_role": flow.dest_role,
                "src_port": flow.src_port, "dest_port": flow.dest_port,
                "bytes": flow.bytes_out + flow.bytes_in, "packets": flow.packets_out + flow.packets_in,
                "exporter": flow.exporter}))

    def prune(self, horizon):
        for d in (self.threat, self.management, self.rdma):
            d.prune(horizon)

    def sizes(self):
        return {"policy_dedup": len(self.threat) + len(self.management) + len(self.rdma)}

    def evictions(self):
        return {"policy_dedup": self.threat.evictions + self.management.evictions + self.rdma.evictions}

    def to_state(self):
        return {"threat": self.threat.to_state(), "management": self.management.to_state(),
                "rdma": self.rdma.to_state()}

    def load_state(self, st):
        self.threat.load_state(st.get("threat"))
        self.management.load_state(st.get("management"))
        self.rdma.load_state(st.get("rdma"))
