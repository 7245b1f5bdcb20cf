"""make_sink and the JSON-lines sink."""
import io
import json

import pytest

from boundaryflow import config
from boundaryflow.sinks import make_sink


def envs(n):
    return [{"time": float(i), "host": "h", "source": "s", "sourcetype": "boundaryflow:flow",
             "event": {"i": i, "city": "Malmö"}} for i in range(n)]


def test_stream_gets_one_envelope_per_line():
    buf = io.StringIO()
    sink = make_sink(config.default(), stream=buf)
    sink.write(envs(3))
    sink.write([])
    sink.flush()
    lines = buf.getvalue().splitlines()
    assert [json.loads(x)["event"]["i"] for x in lines] == [0, 1, 2]
    h = sink.health()
    assert h["events_out"] == 3 and h["bytes_out"] == len(buf.getvalue().encode("utf-8"))
    sink.close()
    assert not buf.closed          # a stream we were given is not ours to close


def test_file_is_appended(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text('{"old":1}\n')
    for _ in range(2):
        sink = make_sink(config.default(output_path=str(path)))
        sink.write(envs(2))
        sink.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and json.loads(lines[0]) == {"old": 1}


def test_unknown_sink_kind_is_refused():
    cfg = config.default()
    cfg.output.sink = "kafka"
    with pytest.raises(ValueError, match="unknown sink"):
        make_sink(cfg)


def test_splunk_sink_is_the_modular_input_stream():
    sink = make_sink(config.default(output_sink="splunk"), stream=io.StringIO())
    assert type(sink).__module__ == "boundaryflow.sinks.splunk_stream"


def test_file_bytes_out_counts_utf8_bytes_written(tmp_path):
    path = tmp_path / "out.jsonl"
    sink = make_sink(config.default(output_path=str(path)))
    sink.write(envs(3))           # "Malmö" is two bytes longer in UTF-8 than in characters
    sink.close()
    assert sink.health()["bytes_out"] == path.stat().st_size
    assert [json.loads(x)["event"]["city"] for x in path.read_text(encoding="utf-8").splitlines()] == ["Malmö"] * 3
