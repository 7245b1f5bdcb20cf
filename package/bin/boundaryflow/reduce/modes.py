"""Keys and row shapes of the reduction modes, and what consolidation must keep in detail."""
from __future__ import annotations

AI_ROLES = frozenset(("gpu_node", "storage", "inference", "management"))


def conversation_key(f):
    # records are already oriented (track), so both directions of a connection share this key
    return (f.src_ip, f.src_port, f.dest_ip, f.dest_port, f.protocol_number, f.exporter)


def consolidated_key(f):
    # src_port dropped; exporter kept so dvc stays true (duplicates were removed upstream)
    return (f.src_ip, f.dest_ip, f.dest_port, f.protocol_number, f.app, f.exporter)


def conversation_row(f):
    return f.copy()


def consolidated_row(f):
    row = f.copy()
    row.src_port = None          # many source ports folded into one row
    row.community_id = None      # a per-connection hash means nothing for an aggregate
    return row


def security_relevant(f):
    """Rows that consolidation must keep per conversation: threat-intel hits and AI <-> external."""
    if f.threat_match is not None:
        return True
    if f.src_role in AI_ROLES and f.dest_internal is False:
        return True
    return f.dest_role in AI_ROLES and f.src_internal is False
