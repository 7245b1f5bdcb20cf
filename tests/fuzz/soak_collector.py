"""Soak of a live ``boundaryflow collect`` (issue 7), run by scripts/soak.sh.

    python tests/fuzz/soak_collector.py [--minutes 10] [--load 0.7] [--report FILE]

1. capacity: a collector is offered v5 datagrams (30 records each) far above what it can decode for
   a few seconds; its own health events tell how many it decoded per second.
2. soak: a fresh collector gets ``load`` x that rate for ``minutes``; every 10 s its RSS is sampled.
   It must lose nothing (health: datagrams == sent, socket_drops == 0, flows_in == records sent) and
   keep memory flat (median RSS of the last third within 10 % / 16 MiB of the second third).
Exit status 0 when both hold. Results are printed and written as JSON to --report.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

from boundaryflow.collector import free_udp_port

RECORDS = 30


def v5_datagram(seq, conn_base, now):
    """30 records of a pool of 20,000 connections (so conversations aggregate and expire)."""
    uptime = 3600000
    head = struct.pack("!HHIIIIBBH", 5, RECORDS, uptime, int(now), 0, seq, 0, 0, 0)
    body = b""
    for j in range(RECORDS):
        c = (conn_base + j) % 20000
        body += struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH", bytes((10, 1, c >> 8, c & 255)), bytes((203, 0, 113, 9)),
                            b"\0\0\0\0", 1, 2, 10, 12000, uptime - 5000, uptime - 1000, 30000 + c % 30000, 443,
                            0, 0x1B, 6, 0, 0, 0, 24, 24, 0)
    return head + body


class Collector(object):
    def __init__(self, work, port):
        self.work = work
        ini = os.path.join(work, "bf.ini")
        with open(ini, "w") as fh:
            fh.write("[collector]\nlisten = 127.0.0.1:%d\nstate_dir = state\nhealth_interval = 1s\n"
                     "[enrichment]\nlookups_dir = lookups\n[reduction]\nmode = conversation\ninterval = 60s\n"
                     "[output]\nsink = jsonl\npath = events.jsonl\n" % port)
        os.makedirs(os.path.join(work, "lookups"), exist_ok=True)
        exe = os.path.join(os.path.dirname(sys.executable), "boundaryflow")
        self.err = open(os.path.join(work, "stderr.log"), "w")
        self.proc = subprocess.Popen([exe, "collect", "--config", ini], cwd=work, stdout=subprocess.DEVNULL,
                                     stderr=self.err)
        self.port = port
        deadline = time.time() + 20
        while (":%d " % port) not in subprocess.run(["ss", "-uln"], capture_output=True, text=True).stdout:
            if time.time() > deadline or self.proc.poll() is not None:
                raise SystemExit("collector did not start: %s" % open(os.path.join(work, "stderr.log")).read())
            time.sleep(0.1)

    def health(self):
        """Collector-scope health events so far (read from the end of the events file)."""
        out = []
        try:
            with open(os.path.join(self.work, "events.jsonl"), "rb") as fh:
                for line in fh:
                    if b'"scope":"collector"' in line or b'"scope": "collector"' in line:
                        try:
                            out.append(json.loads(line))
                        except ValueError:
                            pass
        except OSError:
            pass
        return out

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(120)
        self.err.close()
        return rc


def send(port, rate, seconds, seq0=0):
    """Paced send; rate None = as fast as possible. Returns datagrams sent."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0 = time.monotonic()
    n = 0
    batch = 50
    while True:
        now = time.monotonic()
        if now - t0 >= seconds:
            break
        wall = time.time()
        for _ in range(batch):
            s.sendto(v5_datagram(seq0 + n * RECORDS, (seq0 + n) * RECORDS, wall), ("127.0.0.1", port))
            n += 1
        if rate:
            ahead = t0 + n / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    s.close()
    return n


def measure_capacity(base):
    work = os.path.join(base, "capacity")
    os.makedirs(work)
    col = Collector(work, free_udp_port())
    t0 = time.time()
    offered = send(col.port, None, 8.0)
    # decoding goes on while the socket buffer drains; wait until the counter stops moving
    last, still = -1, 0
    while still < 3:
        time.sleep(1.0)
        hs = col.health()
        cur = hs[-1]["event"]["datagrams"] if hs else 0
        still = still + 1 if cur == last else 0
        last = cur
    hs = col.health()
    col.stop()
    # rate from health events while the collector was saturated (datagrams rising)
    pts = [(h["time"], h["event"]["datagrams"]) for h in hs if h["time"] >= t0]
    rising = [(t, d) for (t, d), (_t2, d2) in zip(pts, pts[1:]) if d2 > d] or pts
    (ta, da), (tb, db) = rising[0], rising[-1]
    rate = (db - da) / (tb - ta) if tb > ta else 0.0
    drops = hs[-1]["event"]["socket_drops"] if hs else 0
    return {"offered_datagrams": offered, "offered_per_s": round(offered / 8.0), "decoded": last,
            "socket_drops": drops, "max_datagrams_per_s": round(rate), "max_records_per_s": round(rate * RECORDS)}


def soak(base, rate, minutes):
    work = os.path.join(base, "soak")
    os.makedirs(work)
    col = Collector(work, free_udp_port())
    samples, sent = [], 0
    t_end = time.monotonic() + minutes * 60
    while time.monotonic() < t_end:
        sent += send(col.port, rate, min(10.0, t_end - time.monotonic()), seq0=sent)
        samples.append({"t": round(minutes * 60 - (t_end - time.monotonic())), "rss_kib": col.rss_kib()})
    time.sleep(3)
    rc = col.stop()
    final = col.health()[-1]["event"]
    rss = [s["rss_kib"] for s in samples]
    third = max(1, len(rss) // 3)
    mid, last = statistics.median(rss[third:2 * third] or rss), statistics.median(rss[-third:])
    result = {"minutes": minutes, "rate_datagrams_per_s": round(rate), "rate_records_per_s": round(rate * RECORDS),
              "sent_datagrams": sent, "sent_records": sent * RECORDS, "decoded_datagrams": final["datagrams"],
              "flows_in": final["flows_in"], "socket_drops": final["socket_drops"],
              "decode_errors": final["decode_errors"], "exit_status": rc,
              "rss_samples_kib": samples, "rss_median_mid_kib": mid, "rss_median_last_kib": last}
    result["lost"] = sent - final["datagrams"]
    result["flat_memory"] = last <= max(mid * 1.10, mid + 16 * 1024)
    result["ok"] = (rc == 0 and result["lost"] == 0 and final["socket_drops"] == 0
                    and final["flows_in"] == sent * RECORDS and result["flat_memory"])
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--load", type=float, default=0.7)
    ap.add_argument("--report")
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="bf-soak-")
    try:
        cap = measure_capacity(base)
        print("capacity: %s" % json.dumps(cap), flush=True)
        res = soak(base, cap["max_datagrams_per_s"] * args.load, args.minutes)
        res["capacity"] = cap
        res["load"] = args.load
        print("soak: %s" % json.dumps({k: v for k, v in res.items() if k != "rss_samples_kib"}), flush=True)
        print("rss samples (s: KiB): %s" % ", ".join("%d: %d" % (s["t"], s["rss_kib"]) for s in res["rss_samples_kib"]))
        if args.report:
            with open(args.report, "w") as fh:
                json.dump(res, fh, indent=1)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
