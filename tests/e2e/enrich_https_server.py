"""A loopback HTTPS server for the enrichment e2e tests (feeds, TAXII, MaxMind, Okta, Graph).

A test CA and a server certificate for 127.0.0.1 are made with the ``openssl`` CLI; clients trust
the server only through that CA file. Routes map a path to a function(request) -> (status,
headers, body); every request is recorded for assertions.
"""
from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def make_certs(directory):
    """(ca.pem, server.pem, server.key) under ``directory``; EC keys keep it fast."""
    if shutil.which("openssl") is None:
        raise RuntimeError("openssl CLI not found")

    def run(*args):
        subprocess.run(("openssl",) + args, cwd=directory, check=True, capture_output=True)

    run("req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Boundary Flow Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(directory, "ext.cnf"), "w") as fh:
        fh.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
                 "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                 "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return tuple(os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server.key"))


class Request(object):
    def __init__(self, method, path, query, headers, body):
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body

    def json(self):
        return json.loads(self.body)

    def form(self):
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class HttpsServer(object):
    def __init__(self, cert, key):
        self.routes = {}
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                req = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers),
                              self.rfile.read(length) if length else b"")
                server.requests.append(req)
                route = server.routes.get(parts.path)
                status, headers, body = route(req) if route else (404, {}, b"not found")
                if isinstance(body, (dict, list)):
                    body = json.dumps(body).encode()
                    headers = dict({"Content-Type": "application/json"}, **headers)
                elif isinstance(body, str):
                    body = body.encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _handle

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = "https://127.0.0.1:%d" % self.port
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def paths(self):
        return [r.path for r in self.requests]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
