"""Rendering content sources into savedsearches.conf, macros.conf and Dashboard Studio views."""
import json
import pathlib
import re
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "content"))

from lib import render, sources  # noqa: E402
from lib.inventory import Conf  # noqa: E402


def _detection(typ="TTP", score=80):
    return {
        "name": "Boundary Flow Example Thing", "id": "00000000-0000-0000-0000-000000000001", "version": 3,
        "type": typ, "description": "Line one\nline two.", "data_source": ["Boundary Flow Finding"],
        "search": '`boundaryflow_findings` signature="x" _index_earliest=-20m@m _index_latest=-5m@m '
                  "| stats count by src dest | `boundary_flow_example_thing_filter`",
        "drilldown_searches": [
            {"name": "View $src$", "search": '%original_detection_search% | search src="$src$"',
             "earliest_offset": "$info_min_time$", "latest_offset": "$info_max_time$"}],
        "rba": {"message": "Thing on $src$", "risk_objects": [{"field": "src", "type": "system", "score": score}],
                "threat_objects": [{"field": "dest", "type": "ip_address"}]},
        "tags": {"analytic_story": ["S"], "mitre_attack_id": ["T1048"], "security_domain": "network"},
    }


SCHEDULE = {"cron_schedule": "*/15 * * * *", "earliest_time": "-7d", "latest_time": "now", "suppress_period": "24h"}


def _parse(text, tmp_path):
    path = tmp_path / "x.conf"
    path.write_text(text)
    return Conf(path).stanzas


def test_names_follow_security_content_and_es_conventions():
    det = _detection()
    assert sources.filter_macro(det) == "boundary_flow_example_thing_filter"
    assert sources.rule_name(det) == "Boundary Flow - Example Thing - Rule"


def test_ttp_detection_becomes_a_disabled_correlation_search_with_notable_and_risk(tmp_path):
    st = _parse(render.detection_stanza(_detection(), SCHEDULE), tmp_path)["Boundary Flow - Example Thing - Rule"]
    assert st["disabled"] == "1" and st["enableSched"] == "1" and st["cron_schedule"] == "*/15 * * * *"
    assert st["description"] == "Line one line two."               # one line in .conf
    assert st["action.notable"] == "1" and st["action.notable.param.severity"] == "high"
    assert json.loads(st["action.risk.param._risk"]) == [
        {"risk_object_field": "src", "risk_object_type": "system", "risk_score": 80},
        {"threat_object_field": "dest", "threat_object_type": "ip_address"}]
    assert json.loads(st["action.correlationsearch.metadata"])["detection_version"] == "3"
    # the drilldown runs later over the notable's time range: no index-time bounds of the scheduled run
    drill = st["action.notable.param.drilldown_search"]
    assert drill.startswith('`boundaryflow_findings` signature="x" | stats') and "_index_" not in drill
    assert drill.endswith('| search src="$src$"')
    assert "_index_earliest=-20m@m" in st["search"]


def test_anomaly_detection_feeds_risk_only(tmp_path):
    st = _parse(render.detection_stanza(_detection("Anomaly", 30), SCHEDULE), tmp_path)
    st = st["Boundary Flow - Example Thing - Rule"]
    assert st["action.notable"] == "0" and st["action.risk"] == "1"
    assert "action.notable.param.drilldown_search" not in st


def test_severity_follows_the_highest_risk_score():
    assert render.severity_for(_detection(score=70)) == "high"
    assert render.severity_for(_detection(score=50)) == "medium"
    assert render.severity_for(_detection(score=30)) == "low"


def test_scheduled_report_ships_disabled_and_plain_report_enabled(tmp_path):
    plain = {"name": "R", "description": "d", "search": "`boundaryflow_flows`", "earliest_time": "-24h",
             "latest_time": "now"}
    alert = dict(plain, name="A", schedule="*/5 * * * *",
                 alert={"severity": 4, "suppress_fields": "host,exporter", "suppress_period": "4h"})
    stanzas = _parse(render.report_stanza(plain) + "\n" + render.report_stanza(alert), tmp_path)
    assert stanzas["R"]["disabled"] == "0" and stanzas["R"]["enableSched"] == "0"
    assert "cron_schedule" not in stanzas["R"]
    assert stanzas["A"]["disabled"] == "1" and stanzas["A"]["cron_schedule"] == "*/5 * * * *"
    assert stanzas["A"]["alert.suppress.fields"] == "host,exporter" and stanzas["A"]["alert.track"] == "1"


def test_macros_conf_has_argument_counts_and_a_filter_per_detection(tmp_path):
    stanzas = _parse(render.macros_conf(), tmp_path)
    assert stanzas["boundaryflow_ctime(1)"]["args"] == "field"
    for det in sources.detections():
        assert stanzas[sources.filter_macro(det)]["definition"] == "search *"


def test_view_wraps_the_definition_in_cdata():
    xml = render.view_xml({"title": "A & B", "description": "x", "dataSources": {}})
    assert xml.startswith('<dashboard version="2" theme="dark">\n  <label>A &amp; B</label>')
    body = re.search(r"<!\[CDATA\[(.*)\]\]>", xml, re.S).group(1)
    assert json.loads(body)["title"] == "A & B"
