"""Air-gap (issue 7): with no feeds, no MaxMind download, no identity pollers and no HEC configured the
collector opens no outbound connection at all while it receives traffic. Two witnesses: strace of
every socket/connect/send system call, and the process's sockets in /proc while it runs."""
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from collector_process import boundaryflow_exe, free_udp_port, wait_bound
from test_collect import v5_datagram
from test_reliability_support import send_paced

pytestmark = pytest.mark.e2e


def proc_sockets(pid):
    """[(kind, local, remote, state)] of the sockets pid (and its threads) hold, from /proc."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            m = re.match(r"socket:\[(\d+)\]", os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            continue
        if m:
            inodes.add(m.group(1))
    found = []
    for kind in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6"):
        with open("/proc/%d/net/%s" % (pid, kind)) as fh:
            next(fh)
            for line in fh:
                cols = line.split()
                if cols[9] in inodes:
                    found.append((kind, cols[1], cols[2], cols[3]))
                    inodes.discard(cols[9])
    found += [("other", ino, "", "") for ino in inodes]     # unix sockets etc.
    return found


def test_collector_without_outbound_features_opens_no_outbound_connection(tmp_path):
    port = free_udp_port()
    ini = tmp_path / "bf.ini"
    ini.write_text("[collector]\nlisten = 127.0.0.1:%d\nstate_dir = state\nhealth_interval = 1s\n"
                   "[enrichment]\nlookups_dir = lookups\n[reduction]\nmode = flow\n"
                   "[output]\nsink = jsonl\npath = events.jsonl\n" % port)
    (tmp_path / "lookups").mkdir()
    cmd = [boundaryflow_exe(), "collect", "--config", str(ini)]
    strace = shutil.which("strace")
    trace = tmp_path / "strace.txt"
    if strace:
        cmd = [strace, "-f", "-qq", "-o", str(trace), "-e", "trace=socket,connect,sendto,sendmsg,sendmmsg"] + cmd
    err = open(tmp_path / "stderr.log", "w")
    proc = subprocess.Popen(cmd, cwd=str(tmp_path), stdout=subprocess.DEVNULL, stderr=err)
    pid = proc.pid
    try:
        wait_bound(port, proc, timeout=30)
        if strace:       # the collector is strace's child; signals go to it directly
            pid = int(open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)).read().split()[0])
        seen = set()
        for i in range(6):
            send_paced(port, [v5_datagram([("10.1.0.5", "203.0.113.9", 40000 + j, 443, 6, 10, 1200, 0x1B)],
                                          seq=i * 50 + j) for j in range(50)], rate=200)
            seen.update(proc_sockets(pid))
            time.sleep(0.3)
    finally:
        os.kill(pid, signal.SIGTERM)
        rc = proc.wait(30)
        err.close()
    assert rc == 0
    listen = "0100007F:%04X" % port
    for kind, local, remote, _state in seen:
        assert kind == "udp" and local == listen and remote == "00000000:0000", seen
    print("\nair-gap: sockets seen in /proc over 6 samples: %s" % sorted(seen))
    if not strace:
        pytest.skip("strace not installed (Debian package strace): /proc check only")
    calls = [line for line in open(trace).read().splitlines()
             if re.search(r"\b(socket|connect|sendto|sendmsg|sendmmsg)\(", line)]
    outbound = [c for c in calls if re.search(r"\b(connect|sendto|sendmsg|sendmmsg)\(", c)
                and "AF_UNIX" not in c and "AF_NETLINK" not in c]
    sockets = [c for c in calls if re.search(r"\bsocket\(", c)]
    print("air-gap: strace saw %d socket() calls: %s; outbound calls: %s" % (len(sockets), sockets, outbound))
    assert not outbound, outbound
    # sockets that are created but never connected or sent on (e.g. an IPv6-support probe at import)
    # carry no traffic; every UDP socket must be the listener
    assert all("AF_UNIX" in c or "SOCK_DGRAM" in c or "SOCK_STREAM" in c for c in sockets), sockets
