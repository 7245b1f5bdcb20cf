"""supply_chain_new_destination: an AI host initiates to an external destination that is not
egress-allowlisted and that this host did not contact during the learning period.

Learned destinations are kept per AI host. A host that first appears after learning has none, so
each of its external destinations is new. A host that contacted more than ``dests_per_host``
destinations during learning (a proxy, a crawler) cannot be baselined: it is marked saturated and
skipped (counted in health) instead of flooding findings.
"""
from __future__ import annotations

from .bounded import Dedup, LRU
from .signatures import flow_finding, geo_of


class SupplyChainDetector(object):

    def __init__(self, det, egress, learning, limits):
        self.egress = egress
        self.learning = learning
        self.per_host = limits["dests_per_host"]
        self.learned = LRU(limits["hosts"])       # host -> set(dest)
        self.saturated = set()
        self.skipped_saturated = 0
        self.alerted = Dedup(None, limits["dedup"])

    def learn(self, src, dest):
        dests = self.learned.get(src)
        if dests is None:
            dests = set()
            self.learned.put(src, dests)
        if len(dests) < self.per_host:
            dests.add(dest)
        elif dest not in dests:
            self.saturated.add(src)

    def check(self, flow, out):
        """An outbound record after learning, to a destination that is not allowlisted."""
        src, dest = flow.src_ip, flow.dest_ip
        dests = self.learned.get(src)
        if dests is not None and dest in dests:
            return
        if src in self.saturated:
            self.skipped_saturated += 1
            return
        if self.alerted.first((src, dest), flow.end):
            out.append(flow_finding("supply_chain_new_destination", flow, {
                "first_seen": flow.start or flow.end, "learning_start": self.learning.start,
                "learning_end": self.learning.end,
                "learned_destinations_of_src": len(dests) if dests is not None else 0,
                "bytes_out": flow.bytes_out, "bytes_in": flow.bytes_in,
                "allowlist": self.egress.evidence(None), "dest_geo": geo_of(flow, "dest")}))

    def sizes(self):
        return {"learned_hosts": len(self.learned),
                "learned_destinations": sum(map(len, self.learned.values())),
                "supply_chain_alerted": len(self.alerted), "saturated_hosts": len(self.saturated)}

    def evictions(self):
        return {"learned_hosts": self.learned.evictions, "supply_chain_alerted": self.alerted.evictions,
                "saturated_skips": self.skipped_saturated}

    def to_state(self):
        return {"learned": [[h, sorted(s)] for h, s in self.learned.items()],
                "saturated": sorted(self.saturated), "alerted": self.alerted.to_state()}

    def load_state(self, st):
        for h, dests in st.get("learned", ()):
            self.learned.put(h, set(dests))
        self.saturated = set(st.get("saturated", ()))
        self.alerted.load_state(st.get("alerted"))
