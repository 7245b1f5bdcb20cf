"""Independent check of the scenario's IPFIX: Wireshark's decoder (tshark) reads the exported
datagrams - from a pcap we write and from a real capture on loopback - and agrees on every record."""
import collections
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from boundaryflow.scenario.generate import generate
from boundaryflow.scenario.ipfix_export import IpfixEncoder, IpfixExporter
from boundaryflow.scenario.pcap import write_pcap

TSHARK = shutil.which("tshark")
pytestmark = pytest.mark.skipif(not TSHARK, reason="tshark not installed (Debian package tshark; build.sh installs it)")
FIELDS = ("cflow.srcaddr", "cflow.srcaddrv6", "cflow.dstaddr", "cflow.dstaddrv6", "cflow.srcport",
          "cflow.dstport", "cflow.protocol", "cflow.octets", "cflow.packets", "cflow.sequence")


@pytest.fixture(scope="module")
def records():
    sc = generate(seed=3, days=3, learning_days=2, scale=0.5)
    recs = sc.records[::8]          # a slice with both IP versions, long flows and attacks
    assert {r.ip_version for r in recs} == {4, 6}
    return recs


def tshark_read(pcap, port):
    """(record tuples, src addresses, dest addresses, [(sequence, records in message)])."""
    args = [TSHARK, "-n", "-r", pcap, "-d", "udp.port==%d,cflow" % port, "-T", "fields",
            "-E", "occurrence=a", "-E", "aggregator=;"]
    for f in FIELDS:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True).stdout
    recs, srcs, dsts, messages = [], [], [], []
    for line in out.splitlines():
        src4, src6, dst4, dst6, sport, dport, proto, octets, packets, seq = [
            c.split(";") if c else [] for c in line.split("\t")]
        recs += [(int(o), int(p), int(s), int(d), int(pr)) for o, p, s, d, pr in zip(octets, packets, sport, dport, proto)]
        srcs += src4 + src6
        dsts += dst4 + dst6
        messages.append((int(seq[0]), len(octets)))
    return recs, srcs, dsts, messages


def check_agrees(records, pcap, port):
    got, srcs, dsts, messages = tshark_read(pcap, port)
    assert len(got) == len(records)
    assert sum(g[0] for g in got) == sum(r.bytes_out for r in records)
    assert sum(g[1] for g in got) == sum(r.packets_out for r in records)
    want = [(r.bytes_out, r.packets_out, r.src_port, r.dest_port, r.protocol_number) for r in records]
    assert collections.Counter(got) == collections.Counter(want)
    assert collections.Counter(srcs) == collections.Counter(r.src_ip for r in records)
    assert collections.Counter(dsts) == collections.Counter(r.dest_ip for r in records)
    # each message's sequence number = data records in the messages before it (RFC 7011 §3.1)
    before = 0
    for seq, n in messages:
        assert seq == before
        before += n


def test_tshark_decodes_every_record_of_a_written_pcap(tmp_path, records):
    msgs = list(IpfixEncoder(observation_domain=1).encode(records))
    pcap = str(tmp_path / "ipfix.pcap")
    write_pcap(pcap, msgs, dst=("127.0.0.1", 4739))
    check_agrees(records, pcap, 4739)


def test_tshark_reads_a_real_loopback_capture_of_the_udp_export(tmp_path, records):
    tcpdump = shutil.which("tcpdump")
    if not tcpdump:
        pytest.skip("tcpdump not installed (Debian package tcpdump; build.sh installs it)")
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    rx.bind(("127.0.0.1", 0))
    port = rx.getsockname()[1]
    pcap = str(tmp_path / "lo.pcap")
    cap = subprocess.Popen([tcpdump, "-i", "lo", "-n", "-U", "-B", "16384", "-w", pcap, "udp", "and", "port", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        line = cap.stderr.readline().decode(errors="replace")
        if "listening" not in line:
            cap.wait(5)
            pytest.skip("cannot capture on lo here (needs CAP_NET_RAW): %s" % line.strip())
        with IpfixExporter(("127.0.0.1", port), observation_domain=1, rate=5000) as exp:
            sent = exp.send(records)
        deadline = time.time() + 10
        while time.time() < deadline and (not os.path.exists(pcap) or _packets(pcap) < sent):
            time.sleep(0.2)
    finally:
        cap.send_signal(signal.SIGINT)
        cap.wait(10)
        rx.close()
    check_agrees(records, pcap, port)


def _packets(pcap):
    out = subprocess.run([TSHARK, "-n", "-r", pcap, "-T", "fields", "-e", "frame.number"],
                         capture_output=True, text=True, timeout=60).stdout
    return len(out.split())
