"""The BUILT add-on's input script, driven the way splunkd drives it (real processes, real UDP).

The package is built once per session with scripts/package.sh into a temporary directory (set
BOUNDARYFLOW_BUILT_APP=/path/to/output/TA_boundaryflow to reuse a build). The script runs under
Python 3.9 (Splunk 9.3's version) when .cache/venvs/py39 exists, with only the app's own bin/ and
lib/ on its path, as in splunkd.

splunkd's REST API is not available here, so the event-path test answers the three REST calls the
helper makes (properties/<conf>, configs/conf-<conf>) from a loopback server shaped like splunkd's
documented Atom responses.
"""
import http.server
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import pytest

from collector_process import free_udp_port, wait_bound

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP = "TA_boundaryflow"


@pytest.fixture(scope="module")
def app_dir():
    given = os.environ.get("BOUNDARYFLOW_BUILT_APP")
    if given:
        return given
    out = tempfile.mkdtemp(prefix="bf-package-")
    t0 = time.time()
    res = subprocess.run(["bash", os.path.join(ROOT, "scripts", "package.sh"), "--no-appinspect"],
                         env=dict(os.environ, PACKAGE_OUT=out), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    sys.stderr.write("package build took %.1fs\n" % (time.time() - t0))
    return os.path.join(out, "output", APP)


def test_two_packages_from_one_source(app_dir):
    import tarfile
    out = os.path.dirname(os.path.dirname(app_dir))
    version = open(os.path.join(app_dir, "VERSION")).read().split()[0]
    full = tarfile.open(os.path.join(out, "dist", "%s-%s.tar.gz" % (APP, version)))
    tier = tarfile.open(os.path.join(out, "dist", "%s-%s-searchtier.tar.gz" % (APP, version)))
    full_names, tier_names = set(full.getnames()), set(tier.getnames())
    assert "%s/bin/boundaryflow_collector.py" % APP in full_names
    assert "%s/bin/boundaryflow/pipeline.py" % APP in full_names
    assert not [n for n in full_names if n.endswith((".so", ".pyd", ".pyc")) or ".egg-info" in n]
    assert not [n for n in tier_names if n.endswith(".py") or "/bin/" in n or "/lib/" in n]
    for name in ("default/props.conf", "default/eventtypes.conf", "default/tags.conf", "default/transforms.conf",
                 "lookups/boundaryflow_assets.csv", "static/appIcon.png", "app.manifest"):
        assert "%s/%s" % (APP, name) in full_names and "%s/%s" % (APP, name) in tier_names
    assert "%s/default/inputs.conf" % APP not in tier_names
    app_conf = tier.extractfile("%s/default/app.conf" % APP).read().decode()
    assert "id = TA_boundaryflow" in app_conf and "check_for_updates = false" in app_conf
    nav_name = "%s/default/data/ui/nav/default.xml" % APP
    if nav_name in tier_names:      # the collector's pages exist only in the full package
        nav = tier.extractfile(nav_name).read().decode()
        assert 'name="inputs"' not in nav and 'name="configuration"' not in nav


def splunk_python():
    py39 = os.path.join(ROOT, ".cache", "venvs", "py39", "bin", "python")
    return py39 if os.path.exists(py39) else sys.executable


def run_script(app_dir, args, stdin="", timeout=60):
    script = os.path.join(app_dir, "bin", "boundaryflow_collector.py")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"}   # no dev .venv paths
    return subprocess.run([splunk_python(), script] + args, input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=os.path.join(app_dir, "bin"))


def validation_xml(params, name="c1", session_key=""):
    items = "".join('<param name="%s">%s</param>' % (k, escape(v)) for k, v in params.items())
    return ("<items><server_host>sh1</server_host><server_uri>https://127.0.0.1:1</server_uri>"
            "<session_key>%s</session_key><checkpoint_dir>/tmp/bf-ck</checkpoint_dir>"
            '<item name="%s">%s</item></items>' % (session_key, name, items))


def test_scheme_is_a_valid_streaming_xml_scheme(app_dir):
    res = run_script(app_dir, ["--scheme"])
    assert res.returncode == 0, res.stderr
    scheme = ET.fromstring(res.stdout)
    assert scheme.tag == "scheme"
    assert scheme.findtext("title") == "boundaryflow_collector"
    assert scheme.findtext("use_external_validation") == "true"
    assert scheme.findtext("streaming_mode") == "xml"
    assert scheme.findtext("use_single_instance") == "false"
    args = {a.get("name") for a in scheme.iter("arg")}
    assert {"name", "listen", "exporters", "reduction_mode", "workers"} <= args
    assert "interval" not in args        # long-running: splunkd starts it once and keeps it


def test_validate_accepts_good_arguments(app_dir):
    res = run_script(app_dir, ["--validate-arguments"], validation_xml(
        {"listen": "0.0.0.0:2055,[::]:4739", "exporters": "192.0.2.0/24", "reduction_mode": "conversation",
         "workers": "2", "index": "netflow"}))
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip() == ""


@pytest.mark.parametrize("params, field, words", [
    ({"listen": "0.0.0.0:70000"}, "listen", "out of range"),
    ({"exporters": "10.0.0.0/33"}, "exporters", "not an IP address or CIDR"),
    ({"reduction_mode": "sampled"}, "reduction_mode", "expected one of flow, conversation, consolidated"),
    ({"workers": "0"}, "workers", "from 1 to 64"),
    ({"reduction_interval": "60 minuts"}, "reduction_interval", "duration"),
])
def test_validate_refuses_bad_values_naming_the_field(app_dir, params, field, words):
    res = run_script(app_dir, ["--validate-arguments"], validation_xml(params))
    assert res.returncode == 1
    message = ET.fromstring(res.stdout).findtext("message")
    assert 'Field "%s"' % field in message and words in message, message


# -- event path --------------------------------------------------------------------------------
def _atom_feed(conf, stanzas):
    """splunkd's Atom feed for configs/conf-<conf> (as documented for the REST API)."""
    entries = []
    for name, values in stanzas.items():
        keys = "".join('<s:key name="%s">%s</s:key>' % (escape(k), escape(v)) for k, v in values.items())
        acl = ('<s:key name="eai:acl"><s:dict><s:key name="app">%s</s:key><s:key name="owner">nobody</s:key>'
               '<s:key name="sharing">app</s:key></s:dict></s:key>' % APP)
        path = "/servicesNS/nobody/%s/configs/conf-%s/%s" % (APP, conf, name)
        entries.append('<entry><title>%s</title><id>https://127.0.0.1%s</id><link href="%s" rel="alternate"/>'
                       '<content type="text/xml"><s:dict>%s%s</s:dict></content></entry>'
                       % (escape(name), path, path, keys, acl))
    return ('<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
            'xmlns:s="http://dev.splunk.com/ns/rest"><title>conf-%s</title>%s</feed>' % (conf, "".join(entries)))


class SplunkdConfs(object):
    """Loopback answers to the conf reads of solnlib's ConfManager; records every request."""

    def __init__(self, confs):
        self.confs, self.requests = confs, []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append((self.path, self.headers.get("Authorization")))
                path = self.path.split("?", 1)[0].rstrip("/")
                conf = path.rsplit("/", 1)[-1].replace("conf-", "")
                if "/properties/" in path or "/configs/conf-" in path:
                    body = _atom_feed(conf, owner.confs.get(conf, {})).encode()
                    self.send_response(200)
                else:
                    body, _ = b"<response><messages><msg type='ERROR'>Not Found</msg></messages></response>", None
                    self.send_response(404)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_event_path_writes_a_well_formed_stream_of_engine_events(app_dir, tmp_path):
    from test_collect import v5_datagram
    port = free_udp_port()
    splunkd = SplunkdConfs({"ta_boundaryflow_settings": {
        "detection": {"exfil_burst_bytes": "2GiB", "timezone": "Europe/Berlin"},
        "output": {"sink": "splunk"}, "logging": {"loglevel": "DEBUG"}}})
    definition = (
        "<input><server_host>hf1</server_host><server_uri>%s</server_uri><session_key>k3y</session_key>"
        "<checkpoint_dir>%s</checkpoint_dir><configuration><stanza name=\"boundaryflow_collector://e2e\">"
        "<param name=\"listen\">127.0.0.1:%d</param><param name=\"reduction_mode\">flow</param>"
        "<param name=\"index\">netflow</param><param name=\"host\">$decideOnStartup</param>"
        "<param name=\"health_interval\">1s</param></stanza></configuration></input>"
        % (splunkd.uri, tmp_path / "ck", port))
    script = os.path.join(app_dir, "bin", "boundaryflow_collector.py")
    out_path, err_path = tmp_path / "stdout.xml", tmp_path / "stderr.log"
    proc = subprocess.Popen([splunk_python(), script], stdin=subprocess.PIPE, stdout=open(out_path, "w"),
                            stderr=open(err_path, "w"), text=True, cwd=os.path.join(app_dir, "bin"),
                            env={"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"})
    try:
        proc.stdin.write(definition)
        proc.stdin.close()
        wait_bound(port, proc)
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(3):
            s.sendto(v5_datagram([("10.1.0.5", "203.0.113.9", 40000 + i, 443, 6, 10, 12000, 0x1B)], seq=i),
                     ("127.0.0.1", port))
        s.close()
        time.sleep(1.5)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        splunkd.close()
    out, err = out_path.read_text(), err_path.read_text()
    assert proc.returncode == 0, err[-3000:]
    stream = ET.fromstring(out)                     # well-formed: one <stream> document
    assert stream.tag == "stream"
    events = stream.findall("event")
    import json
    flows = [e for e in events if e.findtext("sourcetype") == "boundaryflow:flow"]
    health = [e for e in events if e.findtext("sourcetype") == "boundaryflow:health"]
    assert len(flows) == 3 and health, out[:2000]
    for e in flows:
        body = json.loads(e.findtext("data"))
        assert body["src"] == "10.1.0.5" and body["dest"] == "203.0.113.9" and body["bytes"] == 12000
        assert e.findtext("index") == "netflow"
        assert e.findtext("source") == "boundaryflow_collector://e2e"
        assert e.get("stanza") == "boundaryflow_collector://e2e"
        assert abs(float(e.findtext("time")) - body["start_time"] - body["duration"]) < 0.01
    # settings were read from splunkd with the session key, and the secrets never hit the output
    assert any("conf-ta_boundaryflow_settings" in p for p, _a in splunkd.requests)
    assert all(a == "Splunk k3y" for _p, a in splunkd.requests)
    assert "k3y" not in out and "k3y" not in err
