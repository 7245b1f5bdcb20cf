"""A FRESH export from a real exporter, decoded live: softflowd (Debian) meters the synthetic
AI-cluster input and exports RFC 5103 bidirectional IPFIX to a UDP socket on 127.0.0.1; our decoder
(`decode_capture`, as the collector decodes) must find exactly the records that tshark found in the
committed golden capture softflowd_ipfix_bidir - so the golden capture is reproducible with today's
exporter, and the decoder holds on an export it has never seen byte for byte."""
from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import struct
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "tests", "golden")
sys.path.insert(0, GOLDEN)
import reflib  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not (shutil.which("softflowd") and shutil.which("softflowctl")),
    reason="softflowd not installed (./build.sh setup installs it)")]


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _write_udp_pcap(path, datagrams, port):
    """Received datagrams as an Ethernet/IPv4/UDP pcap (127.0.0.1 -> 127.0.0.1:port), arrival times kept."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, sport, payload in datagrams:
            udp = struct.pack("!HHHH", sport, port, 8 + len(payload), 0) + payload
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                             socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1")) + udp
            frame = b"\0" * 12 + b"\x08\x00" + ip
            f.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(frame), len(frame)) + frame)


def _export_with_softflowd(work, port):
    make_input = _load(os.path.join(ROOT, "scripts", "captures", "make_input_pcap.py"), "make_input_pcap")
    make_input.main(["make_input_pcap.py", os.path.join(work, "input.pcap")])
    ctl = os.path.join(work, "sf.ctl")
    # softflowd keeps 16 characters of the -r path: run it from the work dir (see make_captures.sh)
    proc = subprocess.Popen(["softflowd", "-r", "input.pcap", "-v", "10", "-6", "-b", "-a",
                             "-n", "127.0.0.1:%d" % port, "-d", "-p", os.path.join(work, "sf.pid"), "-c", ctl],
                            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while not os.path.exists(ctl) and time.time() < deadline:
            time.sleep(0.05)
        # In -r mode softflowd runs its main loop only when its control socket is used: the first
        # request makes it read the whole file, a later one lets it see the end of the file, export
        # every flow and exit (see make_captures.sh). `shutdown` (exports everything too) is the fallback.
        for _ in range(50):
            if proc.poll() is not None:
                break
            subprocess.run(["softflowctl", "-c", ctl, "statistics"], capture_output=True, timeout=10)
            time.sleep(0.2)
        if proc.poll() is None:
            subprocess.run(["softflowctl", "-c", ctl, "shutdown"], capture_output=True, timeout=10)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_fresh_softflowd_biflow_export_decodes_like_the_golden_reference(tmp_path):
    from boundaryflow.pipeline import decode_capture
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    try:
        _export_with_softflowd(str(tmp_path), port)
        sock.settimeout(1.0)
        datagrams = []
        while True:   # everything was sent before softflowd exited; drain what the socket holds
            try:
                data, addr = sock.recvfrom(65535)
            except socket.timeout:
                break
            datagrams.append((time.time(), addr[1], data))
    finally:
        sock.close()
    assert datagrams, "softflowd exported nothing"
    capture = str(tmp_path / "fresh.pcap")
    _write_udp_pcap(capture, datagrams, port)

    ours = [reflib.flow_to_record(f) for f in decode_capture(capture)]
    ref = reflib.load_reference(os.path.join(GOLDEN, "reference", "softflowd_ipfix_bidir.json"))["tshark"]["records"]
    fields = ("exporter", "src_ip", "dest_ip", "src_port", "dest_port", "protocol", "bytes", "packets",
              "bytes_rev", "packets_rev", "tcp_flags", "sampling_rate")
    missing, unexpected = reflib.multiset_diff(reflib.zero_missing_flags(ref), reflib.zero_missing_flags(ours), fields)
    assert not missing and not unexpected, reflib.format_diff(missing, unexpected, fields)
    bad = reflib.time_mismatches(ref, ours, fields[:10], 0.001 + 1e-6)
    assert not bad, bad[:5]
