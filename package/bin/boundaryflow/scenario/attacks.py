"""Injected attacks (one function per DESIGN.md §4 signature) and benign near-misses.

Each attack picks its hosts, sizes and times from the seeded RNG, adds its connections after the
learning period and records the findings a correct engine must raise (``Builder.expect``): one row
per finding key of the signature's de-duplication rule, including the findings an attack raises as
a side effect (an exfiltration to a never-seen destination is also a supply-chain finding).
Near-misses are benign look-alikes that must raise nothing.
"""
from __future__ import annotations

import ipaddress

from .context import pick_in
from .model import Host
from .records import tcp, udp

GiB, MiB, KiB = 1 << 30, 1 << 20, 1 << 10


class NoRoom(Exception):
    """The attack period has no time slot of the kind an attack needs."""


def _when(b, kind, duration):
    after, before = b.tl.learning_end, b.tl.end
    if kind == "business":
        slots = b.tl.business_slots(after, before, duration)
    elif kind == "off":
        slots = b.tl.off_slots(after, before, duration)
    else:
        slots = [(after + 600, before - duration - 600)] if before - duration - 600 > after + 600 else []
    t = pick_in(slots, b.rng)
    if t is None:
        raise NoRoom("no %s slot of %.0f s after learning (%s .. %s)" % (kind, duration, after, before))
    return t


def fresh_destination(b):
    """An external address never used before (not allowlisted, not in threat intel)."""
    ti = [ipaddress.ip_network(t["indicator"], strict=False) for t in b.plan.threat_intel]
    while True:
        net = b.rng.choice(b.plan.attack_destinations)
        ip = net.network_address + b.rng.randint(1, net.num_addresses - 2)
        if str(ip) not in b.used_dests and not any(ip in n for n in ti):
            b.used_dests.add(str(ip))
            return Host(str(ip), "attacker-%s" % ip)


def _ai_source(b):
    return b.rng.choice(b.plan.hosts("gpu") * 3 + b.plan.hosts("nfs") + b.plan.hosts("objstore"))


def _maybe_seen_in_learning(b, src, dest):
    """Half the time the destination was already contacted during learning: then no
    supply-chain finding is due (the detector must not rely on "new" to find exfiltration)."""
    if b.rng.random() < 0.5:
        t = b.tl.start + b.rng.uniform(3600, b.tl.learning_end - b.tl.start - 3600)
        b.add(tcp(src, None, dest, 443, t, b.rng.uniform(1, 30), 30 * KiB, 200 * KiB))
        return True
    return False


def exfil_burst(b, used):
    src, dest = _ai_source(b), fresh_destination(b)
    total = int(b.rng.uniform(1.2, 4.0) * GiB)
    duration = b.rng.uniform(900, 3000)
    t = _when(b, "any", duration)
    port = b.rng.choice((443, 22, 8443, 9001))
    streams = b.rng.choice((1, 4, 8))       # multi-stream uploaders (rclone) look like many small flows
    conns = [b.add(tcp(src, None, dest, port, t + b.rng.uniform(0, 20), duration * b.rng.uniform(0.8, 1.0),
                       total // streams, b.rng.randint(1, 10) * MiB)) for _ in range(streams)]
    b.expect("exfil_burst", src.ip, dest.ip, conns)
    b.expect("supply_chain_new_destination", src.ip, dest.ip, conns)


def exfil_low_and_slow(b, used):
    src, dest = _ai_source(b), fresh_destination(b)
    seen = _maybe_seen_in_learning(b, src, dest)
    total = int(b.rng.uniform(300, 900) * MiB)
    span = b.rng.uniform(6, 14) * 3600
    t0 = _when(b, "any", span)
    chunks = b.rng.randint(10, 25)
    conns = []
    for i in range(chunks):
        t = t0 + span * i / chunks + b.rng.uniform(0, 300)
        conns.append(b.add(tcp(src, None, dest, 443, t, b.rng.uniform(60, 600), total // chunks,
                               b.rng.randint(20, 200) * KiB)))
    b.expect("exfil_low_and_slow", src.ip, dest.ip, conns)
    if not seen:
        b.expect("supply_chain_new_destination", src.ip, dest.ip, conns)


def long_lived_outbound(b, used):
    src = b.rng.choice(b.plan.hosts("gpu") + b.plan.hosts("mgmt") +
                       [h for h in b.plan.inference_endpoints if h.version == 4])
    dest = fresh_destination(b)
    seen = _maybe_seen_in_learning(b, src, dest)
    duration = b.rng.uniform(4.5, 8) * 3600
    t = _when(b, "any", duration)
    c = b.add(tcp(src, None, dest, b.rng.choice((443, 4444, 22, 8080)), t, duration,
                  b.rng.randint(5, 60) * MiB, b.rng.randint(1, 20) * MiB))
    b.expect("long_lived_outbound", src.ip, dest.ip, [c])
    if not seen:
        b.expect("supply_chain_new_destination", src.ip, dest.ip, [c])


def supply_chain_new_destination(b, used):
    src, dest = b.rng.choice(b.plan.hosts("gpu") + b.plan.inference_endpoints[:1]), fresh_destination(b)
    t = _when(b, "any", 3600)
    conns = [b.add(tcp(src, None, dest, 443, t + i * b.rng.uniform(60, 600), b.rng.uniform(1, 60),
                       b.rng.randint(5, 50) * KiB, b.rng.randint(1, 80) * MiB))
             for i in range(b.rng.randint(1, 3))]
    b.expect("supply_chain_new_destination", src.ip, dest.ip, conns)


def _endpoint(b, used, key, version=4):
    choices = [e for e in b.plan.inference_endpoints if e.version == version and (key, e.ip) not in used]
    ep = b.rng.choice(choices)
    used.add((key, ep.ip))
    return ep


def _requests(b, client, ep, t, n, spread):
    return [b.add(tcp(client, None, ep, b.rng.choice(ep.ports), t + b.rng.uniform(0, spread),
                      b.rng.uniform(0.1, 10), b.rng.randint(600, 20000), b.rng.randint(2000, 300000)))
            for _ in range(n)]


def inference_unauthorized_source(b, used):
    # an unlisted address from a country the endpoint already knows, or the guest network:
    # only the allowlist can tell it apart
    pool = [h for h in b.plan.unlisted_clients + b.plan.hosts("guests") if ("unauth", h.ip) not in used]
    src = b.rng.choice(pool)
    used.add(("unauth", src.ip))
    ep = b.rng.choice([e for e in b.plan.inference_endpoints if e.version == src.version])
    conns = _requests(b, src, ep, _when(b, "business", 1800), b.rng.randint(2, 8), 1800)
    b.expect("inference_unauthorized_source", src.ip, ep.ip, conns)


def inference_off_hours(b, used):
    ep = b.rng.choice(b.plan.inference_endpoints)
    partners = [h for p in b.plan.partners if p["active_in_learning"] for h in p["hosts"] if h.version == ep.version]
    users = b.plan.hosts("users" if ep.version == 4 else "users6")
    pool = [h for h in partners + users if ("off", h.ip) not in used]
    src = b.rng.choice(pool)
    used.add(("off", src.ip))
    conns = _requests(b, src, ep, _when(b, "off", 1800), b.rng.randint(2, 6), 1800)
    b.expect("inference_off_hours", src.ip, ep.ip, conns)


def inference_new_geo(b, used):
    new = [p for p in b.plan.partners if not p["active_in_learning"] and ("geo", p["country"]) not in used]
    partner = b.rng.choice(new)
    used.add(("geo", partner["country"]))
    src = b.rng.choice(partner["hosts"])
    ep = b.rng.choice([e for e in b.plan.inference_endpoints if e.version == src.version])
    conns = _requests(b, src, ep, _when(b, "business", 1800), b.rng.randint(2, 6), 1800)
    b.expect("inference_new_geo", src.ip, ep.ip, conns)


def inference_volume_spike(b, used):
    ep = _endpoint(b, used, "spike")
    users = b.plan.hosts("users")
    t = _when(b, "business", 600)
    conns = []
    for _ in range(b.rng.randint(150, 320)):
        conns += _requests(b, b.rng.choice(users), ep, t, 1, 240)
    b.expect("inference_volume_spike", "", ep.ip, conns)


def threat_intel_match(b, used):
    entries = [t for t in b.plan.threat_intel if ("ti", t["indicator"]) not in used]
    entry = b.rng.choice(entries)
    used.add(("ti", entry["indicator"]))
    net = ipaddress.ip_network(entry["indicator"], strict=False)
    bad = Host(str(net.network_address + (b.rng.randint(1, net.num_addresses - 2) if net.num_addresses > 2 else 0)),
               "ti-" + entry["category"])
    t = _when(b, "any", 3600)
    if entry["category"] == "scanner":
        dest = b.rng.choice(b.plan.hosts("dmz"))
        conns = [b.add(tcp(bad, None, dest, port, t + i * 2, 0.5, 120, 60)) for i, port in
                 enumerate(b.rng.sample((22, 80, 443, 3389, 8080), 3))]
        b.expect("threat_intel_match", bad.ip, dest.ip, conns)
    else:
        src = b.rng.choice(b.plan.hosts("users"))
        conns = [b.add(tcp(src, None, bad, 443, t + i * b.rng.uniform(240, 600), b.rng.uniform(0.2, 2),
                           b.rng.randint(1, 8) * KiB, b.rng.randint(1, 30) * KiB)) for i in range(6)]
        b.expect("threat_intel_match", src.ip, bad.ip, conns)


def management_unexpected_source(b, used):
    pool = [h for h in b.plan.hosts("users") + b.plan.hosts("guests") + b.plan.unlisted_clients
            if ("mgmt", h.ip) not in used]
    src = b.rng.choice(pool)
    used.add(("mgmt", src.ip))
    dest = b.rng.choice(b.plan.hosts("gpu") + b.plan.hosts("mgmt"))
    ports = (22, 6443, 2379) if dest.group == "mgmt" else (22, 10250)
    t = _when(b, "any", 1800)
    conns = [b.add(tcp(src, None, dest, b.rng.choice(ports), t + i * b.rng.uniform(5, 300),
                       b.rng.uniform(0.5, 60), b.rng.randint(1, 50) * KiB, b.rng.randint(1, 100) * KiB))
             for i in range(b.rng.randint(1, 4))]
    b.expect("management_unexpected_source", src.ip, dest.ip, conns)


def rdma_on_frontend(b, used):
    gpu = b.rng.choice(b.plan.hosts("gpu"))
    other = b.rng.choice(b.plan.hosts("backup_appliance") + b.plan.hosts("users")[:5])
    if ("rdma", other.ip) in used:
        raise NoRoom("rdma peer reused")
    used.add(("rdma", other.ip))
    src, dest = (gpu, other) if b.rng.random() < 0.7 else (other, gpu)
    t = _when(b, "any", 900)
    c = b.add(udp(src, b.rng.randint(49152, 65535), dest, 4791, t, b.rng.uniform(30, 600),
                  int(b.rng.uniform(0.1, 5) * GiB), b.rng.randint(1, 10) * MiB))
    b.expect("rdma_on_frontend", src.ip, dest.ip, [c])


ATTACKS = (exfil_burst, exfil_low_and_slow, long_lived_outbound, inference_unauthorized_source,
           inference_off_hours, inference_new_geo, inference_volume_spike, supply_chain_new_destination,
           threat_intel_match, management_unexpected_source, rdma_on_frontend)


# -- benign near-misses after learning ----------------------------------------------------------

def near_misses(b):
    after = b.tl.learning_end
    if after >= b.tl.end - 3 * 3600:
        return
    # a non-AI host uploads gigabytes to a file-sharing site: not AI infrastructure
    user, share = b.rng.choice(b.plan.hosts("users")), b.plan.file_share[0]
    t = pick_in([(after + 600, b.tl.end - 4000)], b.rng)
    c = b.add(tcp(user, None, share, 443, t, b.rng.uniform(900, 2400), int(b.rng.uniform(1.5, 4) * GiB), 2 * MiB))
    b.near_miss("non_ai_upload", "corporate workstation uploads >1 GiB to a non-allowlisted site",
                user.ip, share.ip, [c])
    # first contact with an allowlisted repository after learning
    new_repo = [h for r in b.plan.repos if not r["active_in_learning"] for h in r["hosts"]]
    for gpu in b.rng.sample(b.plan.hosts("gpu"), 3):
        repo = b.rng.choice(new_repo)
        c = b.add(tcp(gpu, None, repo, 443, pick_in([(after + 600, b.tl.end - 4000)], b.rng),
                      b.rng.uniform(10, 300), 200 * KiB, int(b.rng.uniform(0.1, 2) * GiB)))
        b.near_miss("first_contact_allowlisted_repo", "GPU node pulls from an egress-allowlisted repository "
                    "never contacted during learning", gpu.ip, repo.ip, [c])
    slots = b.tl.business_slots(after, b.tl.end, 3600)
    if not slots:
        return
    # an allowlisted partner downloads a large result: >1 GiB leaves the cluster, as a reply
    partner = b.rng.choice([h for p in b.plan.partners if p["active_in_learning"] for h in p["hosts"] if h.version == 4])
    ep = b.rng.choice([e for e in b.plan.inference_endpoints if e.version == 4])
    c = b.add(tcp(partner, None, ep, 443, pick_in(slots, b.rng), b.rng.uniform(600, 1800),
                  40 * KiB, int(b.rng.uniform(1.2, 3) * GiB)))
    b.near_miss("inbound_reply", "allowlisted partner downloads >1 GiB from an inference endpoint (replies of an "
                "inbound connection are not outbound)", partner.ip, ep.ip, [c])
    # a busy five minutes from allowlisted users, below the spike floor
    t = pick_in(slots, b.rng)
    conns = [_requests(b, b.rng.choice(b.plan.hosts("users")), ep, t, 1, 280)[0] for _ in range(14)]
    b.near_miss("busy_inference", "14 extra inference connections in 5 minutes from allowlisted users "
                "(below volume_spike_floor)", "", ep.ip, conns)
    # management from the allowlist outside business hours is normal operations
    admin = b.rng.choice(b.plan.hosts("admins"))
    mgmt = b.rng.choice(b.plan.hosts("mgmt"))
    off = b.tl.off_slots(after, b.tl.end, 600)
    if off:
        c = b.add(tcp(admin, None, mgmt, 6443, pick_in(off, b.rng), 120, 30 * KiB, 400 * KiB))
        b.near_miss("admin_after_hours", "allowlisted admin reaches kube-apiserver at night", admin.ip, mgmt.ip, [c])
