"""SplunkStreamSink: envelopes -> splunkd's modular-input XML stream, parsed back with a real XML parser."""
import io
import json
import xml.etree.ElementTree as ET

import pytest

from boundaryflow.model import SOURCETYPE_FINDING, SOURCETYPE_FLOW, envelope
from boundaryflow.sinks.splunk_stream import SplunkStreamSink


def parse(text):
    root = ET.fromstring(text)
    assert root.tag == "stream"
    return root.findall("event")


def test_each_envelope_is_one_event_with_its_metadata_and_json_body():
    out = io.StringIO()
    sink = SplunkStreamSink(out, stanza="boundaryflow_collector://c1")
    envs = [envelope(1764000000.25, SOURCETYPE_FLOW, {"src": "10.0.0.1", "bytes": 3, "tcp_flag": ["SYN"]},
                     source="boundaryflow_collector://c1", host="hf1", index="netflow"),
            envelope(1764000001.5, SOURCETYPE_FINDING, {"signature": "exfil_burst", "evidence": {"bytes": 1}},
                     source="boundaryflow_collector://c1", host="hf1")]
    sink.write(envs)
    sink.close()
    events = parse(out.getvalue())
    assert len(events) == 2
    for env, ev in zip(envs, events):
        assert ev.get("stanza") == "boundaryflow_collector://c1"
        assert float(ev.findtext("time")) == pytest.approx(env["time"], abs=0.001)
        assert ev.findtext("host") == "hf1"
        assert ev.findtext("source") == env["source"]
        assert ev.findtext("sourcetype") == env["sourcetype"]
        assert json.loads(ev.findtext("data")) == env["event"]
    assert events[0].findtext("index") == "netflow"
    assert events[1].find("index") is None            # splunkd applies the input's index
    assert sink.health()["events_out"] == 2


def test_markup_and_invalid_xml_characters_cannot_break_the_document():
    out = io.StringIO()
    sink = SplunkStreamSink(out, stanza='odd"<name>&', index="idx")
    nasty = {"app": "</data></event><event>", "user": "a&b <c> ]]> \u00e9\u4e2d", "ctl": "\x00\x07\x1b",
             "bom": "x\ufffey"}
    sink.write([envelope(1.0, SOURCETYPE_FLOW, nasty, source="s<1>", host="h\x01&x")])
    sink.close()
    (ev,) = parse(out.getvalue())
    body = json.loads(ev.findtext("data"))
    assert body.pop("bom") == "xy"                      # U+FFFE cannot appear in XML 1.0: dropped
    nasty.pop("bom")
    assert body == nasty                                # control characters travel JSON-escaped
    assert ev.get("stanza") == 'odd"<name>&'
    assert ev.findtext("source") == "s<1>"
    assert ev.findtext("host") == "h&x"                 # XML 1.0 cannot carry \x01 at all


def test_stream_opens_once_across_writes_and_closes_once():
    out = io.StringIO()
    sink = SplunkStreamSink(out)
    for i in range(3):
        sink.write([envelope(i, SOURCETYPE_FLOW, {"i": i}, host="h")])
        sink.flush()
    sink.close()
    sink.close()
    text = out.getvalue()
    assert text.count("<stream>") == 1 and text.count("</stream>") == 1
    assert [json.loads(e.findtext("data"))["i"] for e in parse(text)] == [0, 1, 2]
    with pytest.raises(ValueError):
        sink.write([envelope(9, SOURCETYPE_FLOW, {"i": 9}, host="h")])


def test_nothing_written_means_no_document():
    out = io.StringIO()
    sink = SplunkStreamSink(out)
    sink.write([])
    sink.close()
    assert out.getvalue() == ""


def test_a_closed_stdout_is_counted_and_raised():
    out = io.StringIO()
    sink = SplunkStreamSink(out)
    out.close()
    with pytest.raises(ValueError):
        sink.write([envelope(1, SOURCETYPE_FLOW, {"a": 1}, host="h")])
    assert sink.health()["write_errors"] == 1


def test_forked_workers_add_events_to_the_parents_single_document(tmp_path):
    import multiprocessing
    path = tmp_path / "stdout.xml"
    out = open(path, "w")
    parent = SplunkStreamSink(out, stanza="boundaryflow_collector://c1")
    parent.open()

    def worker(i):
        sink = SplunkStreamSink(out)            # what make_sink builds inside a forked worker
        sink.write([envelope(i, SOURCETYPE_FLOW, {"worker": i}, host="h")])
        sink.flush()
        sink.close()

    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=worker, args=(i,)) for i in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(10)
        assert p.exitcode == 0
    parent.write([envelope(9, SOURCETYPE_FLOW, {"worker": "parent"}, host="h")])
    parent.close()
    out.close()
    text = path.read_text()
    assert text.count("<stream>") == 1 and text.count("</stream>") == 1
    assert sorted(str(json.loads(e.findtext("data"))["worker"]) for e in parse(text)) == ["0", "1", "2", "parent"]
