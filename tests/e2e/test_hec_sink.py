"""HEC sink against a loopback HTTPS server that answers like Splunk HTTP Event Collector.

The server is a test double for a remote service (Splunk HEC) and returns the documented
responses: 200 {"text":"Success","code":0[,"ackId":N]}, 503 {"text":"Server is busy","code":9},
401 {"text":"Token is required","code":2}, 403 {"text":"Invalid token","code":4},
400 {"text":"Data channel is missing","code":10}, and /services/collector/ack {"acks":{"0":true}}.
"""
import glob
import gzip
import http.server
import json
import logging
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from boundaryflow import config
from boundaryflow.sinks import make_sink
from boundaryflow.sinks.hec import HecSink
from boundaryflow.sinks.hec_client import HecConfigError

pytestmark = pytest.mark.e2e
TOKEN = "3f1c2a8e-77b4-4c1e-9d0a-5b7e6f1a2c3d"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl CLI not installed (Debian package openssl)")
    d = tmp_path_factory.mktemp("pki")

    def run(*args):
        subprocess.run(["openssl"] + list(args), cwd=str(d), check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", "-new", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Boundary Flow test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-new", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf")
    return {"ca": str(d / "ca.pem"), "cert": str(d / "srv.pem"), "key": str(d / "srv.key")}


class FakeHec(object):
    """Splunk HEC on 127.0.0.1 over TLS. Set .busy, .ack, .ack_after; stop()/start() for outages."""

    def __init__(self, certs):
        self.certs = certs
        self.events, self.requests, self.ack_queries = [], [], []
        self.busy = 0                  # answer this many event POSTs with 503
        self.ack = False
        self.ack_after = 0             # ack polls answered false before true
        self.never_ack = False
        self.next_ack = 0
        self.acked = {}                # ackId -> polls seen
        self.lock = threading.Lock()
        self.conns = set()             # open client connections (closed by an outage)
        self.set_cookie = None         # a load balancer's stickiness cookie to hand out
        self.cookies_seen = []
        self.port = 0
        self.httpd = None
        self.start()

    def start(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                http.server.BaseHTTPRequestHandler.setup(self)
                with fake.lock:
                    fake.conns.add(self.request)

            def reply(self, status, doc):
                body = json.dumps(doc).encode()
                self.send_response(status)
                if fake.set_cookie:
                    self.send_header("Set-Cookie", fake.set_cookie)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                auth = self.headers.get("Authorization")
                if not auth:
                    return self.reply(401, {"text": "Token is required", "code": 2})
                if not auth.startswith("Splunk "):
                    return self.reply(401, {"text": "Invalid authorization", "code": 3})
                if auth != "Splunk " + TOKEN:
                    return self.reply(403, {"text": "Invalid token", "code": 4})
                channel = self.headers.get("X-Splunk-Request-Channel")
                with fake.lock:
                    fake.cookies_seen.append(self.headers.get("Cookie"))
                    if self.path == "/services/collector/ack":
                        if not fake.ack:
                            return self.reply(400, {"text": "ACK is disabled", "code": 14})
                        ids = json.loads(raw)["acks"]
                        fake.ack_queries.append(ids)
                        out = {}
                        for i in ids:
                            fake.acked[i] = fake.acked.get(i, 0) + 1
                            out[str(i)] = not fake.never_ack and fake.acked[i] > fake.ack_after
                        return self.reply(200, {"acks": out})
                    if self.path != "/services/collector/event":
                        return self.reply(404, {"text": "The requested URL was not found on this server.", "code": 404})
                    if fake.ack and not channel:
                        return self.reply(400, {"text": "Data channel is missing", "code": 10})
                    if fake.busy:
                        fake.busy -= 1
                        return self.reply(503, {"text": "Server is busy", "code": 9})
                    gz = self.headers.get("Content-Encoding") == "gzip"
                    text = (gzip.decompress(raw) if gz else raw).decode("utf-8")
                    dec, pos, batch = json.JSONDecoder(), 0, []
                    while pos < len(text):
                        while pos < len(text) and text[pos].isspace():
                            pos += 1
                        if pos < len(text):
                            obj, pos = dec.raw_decode(text, pos)
                            batch.append(obj)
                    fake.events.extend(batch)
                    fake.requests.append({"gzip": gz, "channel": channel, "events": len(batch)})
                    doc = {"text": "Success", "code": 0}
                    if fake.ack:
                        doc["ackId"] = fake.next_ack
                        fake.next_ack += 1
                    return self.reply(200, doc)

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.certs["cert"], self.certs["key"])
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        self.port = httpd.server_address[1]
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.httpd = httpd

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        with self.lock:
            for conn in self.conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.conns.clear()

    def ids(self):
        return [e["event"]["i"] for e in self.events]


@pytest.fixture
def hec(certs):
    server = FakeHec(certs)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def token_env(monkeypatch):
    monkeypatch.setenv("BF_TEST_HEC_TOKEN", TOKEN)


def hec_cfg(server, tmp_path, ca=True, **kw):
    opts = dict(output_sink="hec", output_hec_url="https://127.0.0.1:%d" % server.port,
                output_hec_token_env="BF_TEST_HEC_TOKEN", output_spool_dir=str(tmp_path / "spool"),
                output_hec_batch_interval="50ms", collector_state_dir=str(tmp_path / "state"))
    if ca:
        opts["output_hec_ca_bundle"] = server.certs["ca"]
    opts.update(kw)
    return config.default(**opts)


def sink_for(cfg, **kw):
    kw.setdefault("backoff_base", 0.05)
    kw.setdefault("backoff_max", 0.2)
    kw.setdefault("ack_poll", 0.05)
    kw.setdefault("timeout", 5.0)
    return HecSink(cfg, **kw)


def envs(lo, hi):
    return [{"time": 1.7e9 + i, "host": "collector-1", "source": "boundaryflow", "sourcetype": "boundaryflow:flow",
             "event": {"i": i, "src": "10.0.0.1", "dest": "192.0.2.9", "bytes": i * 10}} for i in range(lo, hi)]


def wait_for(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def test_batches_by_size_gzip_channel_and_order(hec, tmp_path):
    cfg = hec_cfg(hec, tmp_path, output_hec_batch="2KiB")
    sink = make_sink(cfg)
    assert isinstance(sink, HecSink)
    for i in range(0, 200, 20):
        sink.write(envs(i, i + 20))
    assert sink.wait_idle(10)
    sink.close()
    assert hec.ids() == list(range(200))
    assert len(hec.requests) > 5 and all(r["gzip"] for r in hec.requests)
    assert len({r["channel"] for r in hec.requests}) == 1 and GUID.match(hec.requests[0]["channel"])
    assert hec.events[0] == envs(0, 1)[0]
    h = sink.health()
    assert h["events_in"] == h["events_out"] == 200 and h["batches_sent"] == len(hec.requests)
    assert h["bytes_out"] > h["wire_bytes"] > 0 and h["duplicates_possible"] == 0 and h["hec_reachable"]


def test_partial_batch_leaves_after_the_interval_without_flush(hec, tmp_path):
    sink = sink_for(hec_cfg(hec, tmp_path, output_hec_gzip="false"))
    sink.write(envs(0, 3))
    assert wait_for(lambda: len(hec.events) == 3, 5)
    assert hec.requests[0]["gzip"] is False
    sink.close()


def test_indexer_acknowledgement(hec, tmp_path):
    hec.ack, hec.ack_after = True, 2
    hec.set_cookie = "AWSELB=4F2A9C; Path=/; Secure"      # Splunk Cloud's ELB stickiness
    sink = sink_for(hec_cfg(hec, tmp_path, output_hec_ack="true"))
    sink.write(envs(0, 10))
    sink.flush()
    assert wait_for(lambda: len(hec.events) == 10)
    assert sink.health()["events_out"] == 0          # received, not yet indexed
    assert sink.wait_idle(10)
    h = sink.health()
    assert h["events_out"] == 10 and h["acks_received"] == 1 and h["pending_acks"] == 0
    assert len(hec.ack_queries) >= 3 and hec.ack_queries[0] == [0]
    assert hec.cookies_seen[0] is None and set(hec.cookies_seen[1:]) == {"AWSELB=4F2A9C"}
    sink.close()


def test_ack_that_never_comes_is_resent_and_counted(hec, tmp_path):
    hec.ack, hec.never_ack = True, True
    sink = sink_for(hec_cfg(hec, tmp_path, output_hec_ack="true"), ack_timeout=0.2)
    sink.write(envs(0, 4))
    sink.flush()
    assert wait_for(lambda: len(hec.events) >= 8)
    hec.never_ack = False
    assert sink.wait_idle(10)
    h = sink.health()
    assert h["ack_timeouts"] >= 1 and h["duplicates_possible"] >= 4 and h["events_out"] == 4
    sink.close()


def test_server_busy_is_retried_with_backoff_without_loss(hec, tmp_path):
    hec.busy = 3
    sink = sink_for(hec_cfg(hec, tmp_path))
    t0 = time.monotonic()
    sink.write(envs(0, 50))
    assert sink.wait_idle(10)
    # three failures back off ~0.05 + 0.1 + 0.2 s (with up to 20% jitter below)
    assert time.monotonic() - t0 >= 0.25
    h = sink.health()
    assert h["server_busy"] == 3 and h["retries"] == 3 and h["duplicates_possible"] == 0
    assert hec.ids() == list(range(50)) and "Server is busy" in h["last_error"]
    sink.close()


def test_outage_spools_then_drains_in_order(hec, tmp_path):
    sink = sink_for(hec_cfg(hec, tmp_path, output_hec_batch="1KiB"))
    sink.write(envs(0, 20))
    assert sink.wait_idle(10)
    hec.stop()
    for i in range(20, 120, 10):
        sink.write(envs(i, i + 10))
        time.sleep(0.02)
    sink.flush()
    assert wait_for(lambda: sink.health()["spool_events"] == 100)
    h = sink.health()
    assert h["hec_reachable"] is False and h["connection_errors"] >= 1 and h["spool_batches"] > 1
    assert glob.glob(str(tmp_path / "spool" / "*.json.gz"))
    hec.start()                                      # same port
    sink.write(envs(120, 130))
    assert sink.wait_idle(15)
    assert hec.ids() == list(range(130))            # nothing lost, nothing reordered
    h = sink.health()
    assert h["spool_events"] == 0 and h["events_out"] == 130 and h["hec_reachable"] is True
    sink.close()


def test_spool_overflow_is_counted(hec, tmp_path):
    hec.stop()
    sink = sink_for(hec_cfg(hec, tmp_path, output_hec_batch="1KiB", output_spool_max="3KiB"))
    for i in range(0, 400, 10):
        sink.write(envs(i, i + 10))
    sink.flush()
    assert wait_for(lambda: sink.health()["queue_depth"] == 0 and sink.health()["spool_dropped_events"] > 0)
    hec.start()
    assert sink.wait_idle(15)
    h = sink.health()
    assert h["events_out"] + h["spool_dropped_events"] == h["events_in"] == 400
    assert hec.ids() == sorted(hec.ids()) and len(hec.ids()) == h["events_out"]
    sink.close()


def test_spool_left_by_a_stopped_collector_is_sent_by_the_next_one(hec, tmp_path):
    hec.stop()
    first = sink_for(hec_cfg(hec, tmp_path))
    first.write(envs(0, 30))
    first.close(timeout=1)
    assert first.health()["spool_events"] == 30
    hec.start()
    second = sink_for(hec_cfg(hec, tmp_path))
    second.write(envs(30, 40))
    assert second.wait_idle(10)
    second.close()
    assert hec.ids() == list(range(40))


def test_tls_verification_is_on_by_default(hec, tmp_path):
    sink = sink_for(hec_cfg(hec, tmp_path, ca=False))     # the test CA is not trusted
    sink.write(envs(0, 5))
    sink.flush()
    assert wait_for(lambda: sink.health()["tls_errors"] >= 1)
    assert hec.events == [] and "certificate" in sink.health()["last_error"]
    sink.close(timeout=0.5)
    # the same spool, now with the CA bundle: delivered
    trusted = sink_for(hec_cfg(hec, tmp_path))
    assert trusted.wait_idle(10) and hec.ids() == list(range(5))
    trusted.close()


def test_missing_token_variable_is_refused(hec, tmp_path, monkeypatch):
    monkeypatch.delenv("BF_TEST_HEC_TOKEN")
    with pytest.raises(HecConfigError, match="BF_TEST_HEC_TOKEN"):
        sink_for(hec_cfg(hec, tmp_path))


def test_token_never_appears_in_logs_errors_or_spool(hec, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("BF_TEST_HEC_TOKEN", "wrong-" + TOKEN)
    sink = sink_for(hec_cfg(hec, tmp_path))
    sink.write(envs(0, 5))
    sink.flush()
    assert wait_for(lambda: sink.health()["auth_errors"] >= 2)
    assert wait_for(lambda: sink.health()["spool_events"] == 5)
    h = sink.health()
    assert "Invalid token" in h["last_error"] and h["events_out"] == 0
    sink.close(timeout=0.5)
    exposed = [json.dumps(h), repr(sink), repr(sink._client), caplog.text]
    for path in glob.glob(str(tmp_path / "spool" / "*")):
        with open(path, "rb") as fh:
            exposed.append(gzip.decompress(fh.read()).decode())
    assert exposed[-1].count('"i":') == 5
    for text in exposed:
        assert TOKEN not in text
    assert "HEC delivery failed" in caplog.text
