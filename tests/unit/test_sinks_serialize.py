"""dumps: orjson and stdlib paths give the same JSON."""
import json
import math
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from boundaryflow.model import Flow, envelope, flow_event
from boundaryflow.sinks import serialize

ENGINE = os.path.join(os.path.dirname(__file__), "..", "..", "package", "bin")


def sample_envelope():
    f = Flow()
    f.src_ip, f.dest_ip, f.src_port, f.dest_port, f.protocol_number = "10.0.0.1", "2001:db8::9", 40000, 443, 6
    f.bytes_out, f.bytes_in, f.start, f.end, f.tcp_flags = 10, 20, 1.5, 2.25, 0x12
    f.src_city, f.src_lat = "Zürich", 47.37
    return envelope(f.end, "boundaryflow:flow", flow_event(f), host="h")


def test_compact_utf8_and_equal_to_stdlib():
    env = sample_envelope()
    fast, slow = serialize.dumps(env), serialize.dumps_stdlib(env)
    assert json.loads(fast) == json.loads(slow) == json.loads(json.dumps(env))
    assert ", " not in slow and ": " not in slow and "Zürich" in slow and "Zürich" in fast
    assert serialize.dumpb(env) == fast.encode("utf-8")


@pytest.mark.parametrize("dump", [serialize.dumps, serialize.dumps_stdlib])
def test_nan_inf_are_null_and_special_types(dump):
    obj = {"a": float("nan"), "b": [float("inf"), -float("inf")], 7: {"s": {3, 1, 2}}, "big": 2 ** 70}
    assert json.loads(dump(obj)) == {"a": None, "b": [None, None], "7": {"s": [1, 2, 3]}, "big": 2 ** 70}
    with pytest.raises(TypeError):
        dump({"x": object()})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 63, 2 ** 63 - 1) | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20)


def _norm(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_norm(x) for x in v]
    return v


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_both_backends_agree(value):
    assert json.loads(serialize.dumps(value)) == json.loads(serialize.dumps_stdlib(value)) == _norm(value)


def test_fallback_without_orjson():
    code = ("import sys; sys.modules['orjson'] = None; sys.path.insert(0, %r);"
            "from boundaryflow.sinks import serialize as s;"
            "print(s.BACKEND); print(s.dumps({'t': 1.5, 'n': float('nan'), 'u': 'ü'}))" % ENGINE)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    backend, line = out.splitlines()
    assert backend == "json" and line == '{"t":1.5,"n":null,"u":"ü"}'
