"""Benign AI-cluster boundary traffic: what the cluster does every day.

Dataset ingestion (GPU nodes read from NFS and the object store), periodic checkpoint writes,
GPUDirect-style RoCE to storage, inference clients during operational hours, management and
monitoring, repository pulls, DNS/NTP, corporate web browsing and nightly offsite backups.
Every function appends connections to a :class:`context.Builder`; ``scale`` multiplies rates.
"""
from __future__ import annotations

from .context import DAY, poisson
from .records import tcp, udp

GiB, MiB, KiB = 1 << 30, 1 << 20, 1 << 10


def nfs_ingestion(b):
    """One long-lived NFS connection per GPU node and server per day, bulk reads (server -> GPU)."""
    nfs = b.plan.hosts("nfs")
    for i, gpu in enumerate(b.plan.hosts("gpu")):
        servers = [nfs[i % len(nfs)], nfs[(i + 1) % len(nfs)]]
        for day in b.tl.day_starts():
            for srv in servers:
                begin = day + b.rng.uniform(5, 300)
                length = min(DAY - 400, b.tl.end - begin - 1)
                read = int(b.rng.uniform(150, 900) * GiB)
                # NFS clients use a privileged (reserved) source port
                b.add(tcp(gpu, b.port(gpu, 665, 1023), srv, 2049, begin, length, read // 90, read))


def object_store(b):
    """S3 GETs of dataset shards and periodic checkpoint PUTs (4 parallel streams)."""
    stores = b.plan.hosts("objstore")
    for gpu in b.plan.hosts("gpu"):
        period = b.rng.uniform(45, 120) * 60          # this job's checkpoint cadence
        t = b.tl.start + b.rng.uniform(0, period)
        while t < b.tl.end:
            size = b.rng.uniform(4, 24) * GiB
            streams = b.rng.choice((2, 4))
            for _ in range(streams):
                dur = b.rng.uniform(40, 200)
                b.add(tcp(gpu, None, b.rng.choice(stores), 443, t + b.rng.uniform(0, 5), dur,
                          int(size / streams), b.rng.randint(20, 80) * KiB))
            t += period * b.rng.uniform(0.95, 1.05)
        for day in b.tl.day_starts():
            for _ in range(poisson(b.rng, 5 * b.scale)):
                b.add(tcp(gpu, None, b.rng.choice(stores), 443, day + b.rng.uniform(0, DAY - 900),
                          b.rng.uniform(30, 600), b.rng.randint(50, 400) * KiB,
                          int(b.rng.uniform(1, 8) * GiB)))


def rdma_to_storage(b):
    """RoCEv2 between GPU nodes and storage: both AI infrastructure, so not a finding."""
    nfs = b.plan.hosts("nfs")
    for i, gpu in enumerate(b.plan.hosts("gpu")):
        for day in b.tl.day_starts():
            for _ in range(poisson(b.rng, 2 * b.scale)):
                b.add(udp(gpu, b.rng.randint(49152, 65535), nfs[i % len(nfs)], 4791,
                          day + b.rng.uniform(0, DAY - 900), b.rng.uniform(20, 300),
                          int(b.rng.uniform(0.5, 4) * GiB), b.rng.randint(1, 20) * MiB))


def inference_clients(b):
    """Inference requests during operational hours from allowlisted users and active partners.

    Every active partner reaches every endpoint of its IP version each operational day, so the
    learning period sees each endpoint's countries."""
    partners = [h for p in b.plan.partners if p["active_in_learning"] for h in p["hosts"]]
    users = {4: b.plan.hosts("users"), 6: b.plan.hosts("users6")}
    for ep in b.plan.inference_endpoints:
        my_partners = [h for h in partners if h.version == ep.version]
        for lo, hi in b.tl.windows:
            # requests start up to 5 min after t and last up to 20 s: stay inside the window
            lo, hi = lo + 60, hi - 360
            t = lo
            first = True
            while t < hi:
                n = min(poisson(b.rng, 4.0 * b.scale), 12)
                clients = [b.rng.choice(my_partners) if my_partners and b.rng.random() < 0.4
                           else b.rng.choice(users[ep.version]) for _ in range(n)]
                if first:
                    clients += my_partners
                    first = False
                for c in clients:
                    b.add(_request(b, c, ep, t + b.rng.uniform(0, 299)))
                t += 300


def _request(b, client, ep, t, port=None):
    return tcp(client, None, ep, port or b.rng.choice(ep.ports), t, b.rng.uniform(0.05, 20),
               b.rng.randint(600, 20000), b.rng.randint(2000, 400000))


def management(b):
    """Management hosts reach GPU nodes (SSH, kubelet, node-exporter); admins reach the control plane."""
    mgmt, gpus = b.plan.hosts("mgmt"), b.plan.hosts("gpu")
    for day in b.tl.day_starts():
        for gpu in gpus:
            # node-exporter scraped over one kept-alive connection all day
            b.add(tcp(mgmt[0], None, gpu, 9100, day + b.rng.uniform(1, 60), DAY - 200,
                      b.rng.randint(2, 6) * MiB, b.rng.randint(80, 200) * MiB))
            for _ in range(poisson(b.rng, 2 * b.scale)):
                b.add(tcp(b.rng.choice(mgmt), None, gpu, 22, day + b.rng.uniform(0, DAY - 4000),
                          b.rng.uniform(5, 3000), b.rng.randint(5, 500) * KiB, b.rng.randint(5, 900) * KiB))
            for _ in range(poisson(b.rng, 10 * b.scale)):
                b.add(tcp(mgmt[0], None, gpu, 10250, day + b.rng.uniform(0, DAY - 700),
                          b.rng.uniform(0.2, 600), b.rng.randint(1, 40) * KiB, b.rng.randint(2, 900) * KiB))
    for lo, hi in b.tl.windows:
        for admin in b.plan.hosts("admins"):
            for _ in range(poisson(b.rng, 6 * b.scale)):
                b.add(tcp(admin, None, b.rng.choice(mgmt), b.rng.choice((6443, 6443, 22)),
                          b.rng.uniform(lo, hi - 3600), b.rng.uniform(1, 1800),
                          b.rng.randint(2, 300) * KiB, b.rng.randint(10, 3000) * KiB))


def repositories(b):
    """Package/model pulls from allowlisted repositories, and hourly experiment telemetry (seen
    during learning but not allowlisted)."""
    repos = [h for r in b.plan.repos if r["active_in_learning"] for h in r["hosts"]]
    telemetry = b.plan.telemetry[0]
    for gpu in b.plan.hosts("gpu"):
        for day in b.tl.day_starts():
            for _ in range(poisson(b.rng, 3 * b.scale)):
                b.add(tcp(gpu, None, b.rng.choice(repos), 443, day + b.rng.uniform(0, DAY - 1800),
                          b.rng.uniform(5, 900), b.rng.randint(20, 400) * KiB,
                          int(b.rng.uniform(50 * MiB, 6 * GiB))))
        t = b.tl.start + b.rng.uniform(0, 3600)
        while t < b.tl.end:
            b.add(tcp(gpu, None, telemetry, 443, t, b.rng.uniform(0.5, 5), b.rng.randint(20, 300) * KiB,
                      b.rng.randint(2, 20) * KiB))
            t += 3600 * b.rng.uniform(0.9, 1.1)
    hub = [h for r in b.plan.repos if r["name"] == "model-hub" for h in r["hosts"]] or repos
    for ep in b.plan.inference_endpoints:
        if ep.version != 4:
            continue
        for day in b.tl.day_starts():
            b.add(tcp(ep, None, b.rng.choice(hub), 443, day + b.rng.uniform(3600, 6 * 3600),
                      b.rng.uniform(60, 900), 300 * KiB, int(b.rng.uniform(2, 30) * GiB)))


def dns_ntp(b):
    dns, ntp = b.plan.hosts("services")[0], b.plan.hosts("services")[1]
    hosts = b.plan.hosts("gpu") + [h for h in b.plan.inference_endpoints if h.version == 4]
    for h in hosts:
        # the first queries come right at the start: the engine's learning period begins with the
        # first record it sees, and the attacks are placed relative to the scenario's start
        t = b.tl.start + b.rng.uniform(0, 60)
        while t < b.tl.end:
            b.add(udp(h, None, dns, 53, t, b.rng.uniform(0.001, 0.05), b.rng.randint(60, 90),
                      b.rng.randint(90, 300)))
            t += 1800 / b.scale * b.rng.uniform(0.5, 1.5)
        t = b.tl.start + b.rng.uniform(0, 3600)
        while t < b.tl.end:
            b.add(udp(h, 123, ntp, 123, t, 0.01, 76, 76))
            t += 3600


def corporate_web(b):
    """Users browse the web: non-AI traffic the detectors must leave alone."""
    users = b.plan.hosts("users") + b.plan.hosts("guests")
    for lo, hi in b.tl.windows:
        for _ in range(poisson(b.rng, (hi - lo) / 3600 * 20 * b.scale)):
            b.add(tcp(b.rng.choice(users), None, b.rng.choice(b.plan.web), 443, b.rng.uniform(lo, hi - 700),
                      b.rng.uniform(0.5, 600), b.rng.randint(2, 200) * KiB, b.rng.randint(20, 20000) * KiB))


def offsite_backup(b):
    """Nightly replication of every NFS server to the allowlisted offsite backup: > 1 GiB per hour."""
    for day in b.tl.day_starts():
        for srv in b.plan.hosts("nfs"):
            t = day + 3600 + b.rng.uniform(0, 1800)
            conns = []
            for _ in range(4):
                conns.append(b.add(tcp(srv, None, b.rng.choice(b.plan.offsite_backup), 443,
                                       t + b.rng.uniform(0, 30), b.rng.uniform(2400, 6000),
                                       int(b.rng.uniform(3, 12) * GiB), b.rng.randint(1, 8) * MiB)))
            if t >= b.tl.learning_end:
                b.near_miss("allowlisted_backup", "storage node uploads >1 GiB/h to the egress-allowlisted "
                            "offsite backup", srv.ip, conns[0].server.ip if conns[0] else "", conns)


BENIGN = (nfs_ingestion, object_store, rdma_to_storage, inference_clients, management, repositories,
          dns_ntp, corporate_web, offsite_backup)
