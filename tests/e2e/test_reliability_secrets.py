"""Secrets (issue 7): a collector run with known secrets in its environment - HEC token, MaxMind
license key, threat-feed and Okta tokens - against a HEC endpoint that refuses the token and feeds,
MaxMind and Okta endpoints that cannot be reached. Afterwards no log line, health event, exception
text, spool batch or state file holds any secret value."""
import gzip
import http.server
import json
import os
import signal
import subprocess
import threading
import time
import zlib

import pytest

from collector_process import boundaryflow_exe, free_udp_port, wait_bound
from test_collect import v5_datagram
from test_reliability_support import send_paced, wait_for

pytestmark = pytest.mark.e2e
SECRETS = {
    "BF_TEST_HEC_TOKEN": "6b1f0c3e-hec-SECRET-7d2a9e41c5b8",
    "BF_TEST_MAXMIND_KEY": "mmKEY_SECRET_0f9e8d7c6b5a",
    "BF_TEST_FEED_TOKEN": "feedTOKEN-SECRET-a1b2c3d4e5",
    "BF_TEST_OKTA_TOKEN": "00oktaSECRET_z9y8x7w6v5u4",
}


def closed_tcp_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class RefusingHec(object):
    """Splunk HEC that rejects the token with its documented answer: 403 {"text":"Invalid token","code":4}."""

    def __init__(self):
        self.auth_seen = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.auth_seen.append(self.headers.get("Authorization"))
                body = json.dumps({"text": "Invalid token", "code": 4}).encode()
                self.send_response(403)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def readable(path):
    """A file's bytes, decompressed when it is gzip/zlib (spool batches)."""
    data = open(path, "rb").read()
    for unpack in (gzip.decompress, zlib.decompress):
        try:
            return data + b"\n" + unpack(data)
        except Exception:
            continue
    return data


def test_no_secret_in_logs_health_spool_or_state(tmp_path):
    hec = RefusingHec()
    dead = closed_tcp_port()
    port = free_udp_port()
    ini = tmp_path / "bf.ini"
    ini.write_text(
        "[collector]\nlisten = 127.0.0.1:%d\nstate_dir = state\nhealth_interval = 1s\n"
        "[enrichment]\nlookups_dir = lookups\nmaxmind_account_id = 123456\n"
        "maxmind_license_key_env = BF_TEST_MAXMIND_KEY\nmaxmind_download_url = https://127.0.0.1:%d/geoip/databases\n"
        "okta_url = https://127.0.0.1:%d\nokta_token_env = BF_TEST_OKTA_TOKEN\nidentity_poll_interval = 1s\n"
        "[threat_feed:blocklist]\nurl = https://127.0.0.1:%d/feed.txt\ntoken_env = BF_TEST_FEED_TOKEN\ninterval = 1s\n"
        "[reduction]\nmode = flow\n"
        "[output]\nsink = hec\nhec_url = http://127.0.0.1:%d\nhec_token_env = BF_TEST_HEC_TOKEN\n"
        "hec_batch_interval = 1s\n" % (port, dead, dead, dead, hec.port))
    (tmp_path / "lookups").mkdir()
    env = dict(os.environ, **SECRETS)
    stdout, stderr = open(tmp_path / "stdout.log", "w"), open(tmp_path / "stderr.log", "w")
    proc = subprocess.Popen([boundaryflow_exe(), "-v", "collect", "--config", str(ini)], cwd=str(tmp_path),
                            env=env, stdout=stdout, stderr=stderr)
    try:
        wait_bound(port, proc)
        send_paced(port, [v5_datagram([("10.1.0.5", "203.0.113.9", 40000 + i, 443, 6, 10, 1200, 0x1B)], seq=i)
                          for i in range(50)], rate=100)
        wait_for(lambda: len(hec.auth_seen) >= 2, 30, "the collector to try HEC")
        time.sleep(3)            # feed, MaxMind and Okta refreshes fail a few times
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(60)
        stdout.close()
        stderr.close()
        hec.close()
    assert rc == 0
    log = open(tmp_path / "stderr.log").read()
    # the run really went through the failure paths whose messages could leak a secret
    assert hec.auth_seen[0] == "Splunk " + SECRETS["BF_TEST_HEC_TOKEN"]
    assert "HEC refused the batch" in log and "127.0.0.1:%d" % dead in log    # HEC and feed/MaxMind/Okta tried
    scanned = []
    for root, _dirs, files in os.walk(str(tmp_path)):
        for name in files:
            path = os.path.join(root, name)
            if name == "bf.ini":
                continue
            data = readable(path)
            scanned.append(os.path.relpath(path, str(tmp_path)))
            for var, value in SECRETS.items():
                assert value.encode() not in data, "%s leaked into %s" % (var, path)
                assert value[-12:].encode() not in data, "part of %s leaked into %s" % (var, path)
    print("\nsecrets scan: %d files, %d bytes of stderr, none holds a secret: %s"
          % (len(scanned), len(log), ", ".join(sorted(scanned))))
    spool = b"".join(readable(os.path.join(str(tmp_path), s)) for s in scanned if s.startswith("state/spool"))
    assert b"boundaryflow:health" in spool and b"blocklist" in spool      # health with the feed's error was scanned
    assert any(s.endswith("templates.json") for s in scanned), scanned
