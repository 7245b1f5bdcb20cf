"""pytest-splunk-addon 6.4.0 ``-m splunk_requirements_unit`` over samples made from ENGINE events.

Each sample event lists, as ``cim_fields``, only the CIM fields the engine event really has (never a
hand-written value), and ``missing_recommended_fields`` is empty: the plugin then fails if an
engine event lacks any field its CIM definition recommends. The plugin runs in its own venv (its
pins clash with the dev .venv) against this repository's package/ directory, offline.
"""
import json
import os
import re
import subprocess
from xml.sax.saxutils import quoteattr, escape

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PER_KIND = 40        # sample events per (sourcetype, transport / signature)


def pick(events, key):
    """Up to PER_KIND events of each kind, in order (deterministic)."""
    seen, out = {}, []
    for env in events:
        k = key(env["event"])
        if seen.get(k, 0) < PER_KIND:
            seen[k] = seen.get(k, 0) + 1
            out.append(env)
    return out


def sample_xml(events, model, cim_names):
    parts = ['<?xml version="1.0" encoding="utf-8"?>', "<device><vendor>Boundary Flow</vendor>",
             '<product>Boundary Flow collector</product><version id="engine">engine</version>']
    for i, env in enumerate(events):
        ev = env["event"]
        fields = "".join("<field name=%s value=%s/>" % (quoteattr(n), quoteattr(json.dumps(ev[n]) if isinstance(ev[n], (list, dict)) else str(ev[n])))
                         for n in sorted(cim_names) if ev.get(n) not in (None, "", []))
        parts.append('<event code="%s-%d" name=%s format="json">' % (model, i, quoteattr(ev.get("signature") or ev.get("app", ""))) +
                     '<transport type="modinput" host=%s source=%s sourcetype=%s/>'
                     "<source><comment>engine output (boundaryflow jsonl sink)</comment></source>"
                     % (quoteattr(env["host"]), quoteattr(env["source"]), quoteattr(env["sourcetype"])) +
                     "<raw>%s</raw><cim><models><model>%s</model></models><cim_fields>%s</cim_fields>"
                     "<missing_recommended_fields></missing_recommended_fields></cim></event>"
                     % (escape(json.dumps(ev, separators=(",", ":"))), model, fields))
    parts.append("</device>")
    return "\n".join(parts)


def test_engine_events_meet_pytest_splunk_addon_cim_requirements(psa, flows, findings, cim_models, tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    sets = {
        "boundaryflow_flow.xml": ("boundaryflow:flow", "Network_Traffic",
                                  pick(flows, lambda e: (e["transport"], e.get("protocol_version")))),
        "boundaryflow_finding.xml": ("boundaryflow:finding", "Intrusion_Detection",
                                     pick(findings, lambda e: e["signature"])),
    }
    conf = []
    total = 0
    for name, (sourcetype, model, events) in sets.items():
        names = [n for n in cim_models[model] if n not in ("__tags__", "dvc")]
        (samples / name).write_text(sample_xml(events, model, names))
        conf.append("[%s]\nsourcetype = %s\nsource = boundaryflow_collector://psa\nhost_type = plugin\n"
                    "input_type = modinput\ntimestamp_type = event\nsample_count = 1\n"
                    "requirement_test_sample = 1\n" % (name, sourcetype))
        total += len(events)
    (samples / "pytest-splunk-addon-data.conf").write_text("\n".join(conf))
    (tmp_path / "test_addon.py").write_text(
        "from pytest_splunk_addon.standard_lib.addon_basic import Basic\n\n\n"
        "class Test_App(Basic):\n    def empty_method():\n        pass\n")
    res = subprocess.run(
        [psa, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_addon.py"),
         "-m", "splunk_requirements_unit", "--splunk-type=external", "--splunk-host=127.0.0.1",
         "--splunk-app=%s" % os.path.join(ROOT, "package"), "--splunk-data-generator=%s" % samples,
         "--tokenized-event-source=store_new"],
        cwd=str(tmp_path), capture_output=True, text=True, timeout=300)
    tail = res.stdout[-4000:] + res.stderr[-2000:]
    assert res.returncode == 0, tail
    passed = int(re.search(r"(\d+) passed", res.stdout).group(1))
    assert passed >= 2 and "failed" not in res.stdout.splitlines()[-1], tail
    assert total >= 50
