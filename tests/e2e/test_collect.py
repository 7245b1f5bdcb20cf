"""``boundaryflow collect`` as splunkd or systemd runs it: real process, real UDP, SIGTERM."""
import signal
import socket
import struct
import time

from collector_process import CollectorProcess


def v5_datagram(records, seq, uptime_ms=3600000, unix=1764000000):
    head = struct.pack("!HHIIIIBBH", 5, len(records), uptime_ms, unix, 0, seq, 0, 0, 0)
    body = b""
    for src, dst, sport, dport, proto, pkts, octets, flags in records:
        body += struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH", socket.inet_aton(src), socket.inet_aton(dst),
                            b"\0\0\0\0", 1, 2, pkts, octets, uptime_ms - 5000, uptime_ms - 1000,
                            sport, dport, 0, flags, proto, 0, 0, 0, 24, 24, 0)
    return head + body


def test_collect_decodes_counts_bad_input_and_flushes_on_sigterm(tmp_path):
    col = CollectorProcess(tmp_path)
    good = [v5_datagram([("10.1.0.5", "203.0.113.9", 40000 + i, 443, 6, 10, 12000, 0x1B)], seq=i) for i in range(20)]
    col.send(good[:10])
    col.send([b"\x00\x05garbage", b"\xff" * 3, b""])         # malformed: counted, skipped
    col.send(good[10:])
    time.sleep(1.5)
    assert col.stop(signal.SIGTERM) == 0, col.log()
    events = col.events()
    flows = [e for e in events if e["sourcetype"] == "boundaryflow:flow"]
    health = [e["event"] for e in events if e["sourcetype"] == "boundaryflow:health"]
    assert len(flows) == 20
    assert {e["event"]["bytes"] for e in flows} == {12000}
    assert all(e["event"]["dvc"] == "127.0.0.1" and e["event"]["src"] == "10.1.0.5" for e in flows)
    total = [h for h in health if h.get("scope") == "collector"][-1]
    assert total["decode_errors"] >= 2 and total["flows_in"] == 20
    per_exporter = [h for h in health if h.get("scope") == "exporter" and h["exporter"] == "127.0.0.1"][-1]
    assert per_exporter["datagrams"] >= 22 and per_exporter["sequence_gaps"] == 0
    assert (tmp_path / "state" / "templates.json").exists()


def test_exporter_allowlist_drops_and_counts(tmp_path):
    col = CollectorProcess(tmp_path, collector="exporters = 127.0.0.2/32\n")
    d = [v5_datagram([("10.1.0.5", "203.0.113.9", 40000, 443, 6, 1, 100, 0x02)], seq=i) for i in range(3)]
    col.send(d, src="127.0.0.1")
    col.send(d, src="127.0.0.2")
    time.sleep(1.0)
    assert col.stop() == 0, col.log()
    events = col.events()
    flows = [e["event"] for e in events if e["sourcetype"] == "boundaryflow:flow"]
    assert {f["dvc"] for f in flows} == {"127.0.0.2"} and len(flows) == 3
    total = [e["event"] for e in events if e["event"].get("scope") == "collector"][-1]
    assert total["exporter_rejected"] == 3


def test_bad_config_refused_at_start_naming_the_key(tmp_path):
    import subprocess
    from collector_process import boundaryflow_exe
    ini = tmp_path / "bad.ini"
    ini.write_text("[collector]\nlisten = 127.0.0.1:70000\n")
    out = subprocess.run([boundaryflow_exe(), "collect", "--config", str(ini)], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 2
    assert "[collector] listen" in out.stderr and "out of range" in out.stderr


def test_two_workers_keep_each_exporter_on_one_worker(tmp_path):
    col = CollectorProcess(tmp_path, workers=2)
    exporters = ["127.0.0.%d" % i for i in range(2, 8)]
    for n, ip in enumerate(exporters):
        # distinct flows per exporter (identical ones would be removed as duplicate exports);
        # a new source port per datagram: steering must use the address alone
        for seq in range(5):
            col.send([v5_datagram([("10.1.0.%d" % n, "203.0.113.9", 40000 + seq, 443, 6, 1, 100, 0x02)], seq=seq)],
                     src=ip)
    time.sleep(2.0)
    assert col.stop() == 0, col.log()
    events = col.events()
    flows = [e["event"] for e in events if e["sourcetype"] == "boundaryflow:flow"]
    assert len(flows) == 5 * len(exporters)
    workers_of = {}
    for e in events:
        ev = e["event"]
        if e["sourcetype"] == "boundaryflow:health" and ev.get("scope") == "exporter":
            workers_of.setdefault(ev["exporter"], set()).add(ev["worker"])
    assert sorted(workers_of) == exporters
    assert all(len(w) == 1 for w in workers_of.values()), workers_of
    assert {w for ws in workers_of.values() for w in ws} == {0, 1}
    # each worker keeps its own state directory
    assert (tmp_path / "state" / "worker-0" / "templates.json").exists()
    assert (tmp_path / "state" / "worker-1" / "templates.json").exists()
