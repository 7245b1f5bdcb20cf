"""Shared helpers of the end-to-end tests: a real ``boundaryflow collect`` process, free ports.

(A module of its own, not conftest: several test folders have a conftest, so ``from conftest import``
would pick whichever loaded first.)
"""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from boundaryflow.collector import free_udp_port  # noqa: F401  (used by the e2e tests through this module)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def boundaryflow_exe():
    exe = os.path.join(os.path.dirname(sys.executable), "boundaryflow")
    if not os.path.exists(exe):
        pytest.skip("boundaryflow console script not installed (./build.sh setup)")
    return exe


def wait_bound(port, proc, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError("collector exited early with %s" % proc.returncode)
        if (":%d " % port) in subprocess.run(["ss", "-uln"], capture_output=True, text=True).stdout:
            return
        time.sleep(0.1)
    raise AssertionError("collector did not bind udp port %d" % port)


class CollectorProcess(object):
    """``boundaryflow collect`` as a real process with its own config and work dir."""

    def __init__(self, work, extra="", port=None, workers=1, collector=""):
        self.work = str(work)
        self.port = port or free_udp_port()
        self.ini = os.path.join(self.work, "bf.ini")
        with open(self.ini, "w") as fh:
            fh.write("[collector]\nlisten = 127.0.0.1:%d\nstate_dir = state\nhealth_interval = 1s\n"
                     "workers = %d\n%s[reduction]\nmode = flow\n[output]\nsink = jsonl\npath = events.jsonl\n%s"
                     % (self.port, workers, collector, extra))
        self.stderr = open(os.path.join(self.work, "stderr.log"), "w")
        self.proc = subprocess.Popen([boundaryflow_exe(), "collect", "--config", self.ini], cwd=self.work,
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)
        wait_bound(self.port, self.proc)

    def send(self, datagrams, src="127.0.0.1"):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        for d in datagrams:
            s.sendto(d, ("127.0.0.1", self.port))
        s.close()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        self.stderr.close()
        return rc

    def events(self):
        import json
        path = os.path.join(self.work, "events.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as fh:
            return [json.loads(line) for line in fh if line.strip()]

    def log(self):
        return open(os.path.join(self.work, "stderr.log")).read()
