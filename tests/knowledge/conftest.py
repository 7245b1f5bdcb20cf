"""Engine-produced events for the CIM checks, and pytest-splunk-addon 6.4.0's CIM definitions.

Events come from the engine itself, never written by hand:
- every golden capture of real exporters (tests/golden/captures/*.pcap) through pipeline.replay;
- NetFlow v5 export datagrams carrying ICMP, GRE and ESP records (which the captures may lack),
  through the same Pipeline;
- the synthetic AI-cluster scenario (real IPFIX messages) with labelled attacks, for findings.
All are written by the engine's jsonl sink, exactly what `boundaryflow replay --output jsonl` prints.
"""
import glob
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PSA_VENV = os.path.join(ROOT, ".cache", "venvs", "psa")
PSA_PIN = "pytest-splunk-addon==6.4.0"
sys.path.insert(0, os.path.join(ROOT, "tests", "unit"))   # decode_builders: export datagram builders


def _jsonl_config(work, **sections):
    from boundaryflow import config
    os.makedirs(work, exist_ok=True)
    mapping = {"collector": {"state_dir": os.path.join(work, "state")},
               "output": {"sink": "jsonl", "path": os.path.join(work, "events.jsonl")},
               "reduction": {"mode": "flow"}}
    for name, values in sections.items():
        mapping.setdefault(name, {}).update(values)
    return config.from_mapping(mapping, work)


def _read(cfg):
    with open(cfg.output.path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _captures(tmp):
    from boundaryflow.pipeline import replay
    from boundaryflow.sinks import make_sink
    events = []
    for i, path in enumerate(sorted(glob.glob(os.path.join(ROOT, "tests", "golden", "captures", "*.pcap")))):
        if os.path.getsize(path) <= 24:          # header only: that exporter is not installed here
            continue
        cfg = _jsonl_config(os.path.join(tmp, "cap%d" % i))
        sink = make_sink(cfg)
        try:
            replay(path, cfg, sink)
        finally:
            sink.close()
        events += _read(cfg)
    return events


def _v5_protocols(tmp):
    import decode_builders as b
    from boundaryflow.pipeline import Pipeline
    from boundaryflow.sinks import make_sink
    cfg = _jsonl_config(os.path.join(tmp, "v5"))
    records = [
        b.v5_record("10.1.0.5", "192.0.2.7", 0, (8 << 8) | 0, 1, 4, 336, flags=0),      # ICMP echo request
        b.v5_record("192.0.2.7", "10.1.0.5", 0, (0 << 8) | 0, 1, 4, 336, flags=0),      # ICMP echo reply
        b.v5_record("10.1.0.5", "198.51.100.1", 0, (3 << 8) | 3, 1, 1, 56, flags=0),    # port unreachable
        b.v5_record("10.1.0.5", "203.0.113.50", 0, 0, 47, 100, 150000, flags=0),       # GRE
        b.v5_record("10.1.0.5", "203.0.113.51", 0, 0, 50, 80, 96000, flags=0),         # ESP
        b.v5_record("10.1.0.6", "203.0.113.52", 51515, 53, 17, 2, 140, flags=0),       # DNS
    ]
    sink = make_sink(cfg)
    pipe = Pipeline(cfg, sink)
    pipe.handle_datagram(b.v5(records, secs=1764000000), "127.0.0.1", 1764000000.0)
    pipe.close(now=1764000001.0)
    sink.close()
    return _read(cfg)


def _scenario(tmp):
    from boundaryflow.scenario import generate as gen
    from boundaryflow.scenario.replay import engine_config, replay_scenario
    from boundaryflow.sinks import make_sink
    sc = gen.generate(seed=3, days=3, learning_days=2, scale=0.1, instances=1)
    work = os.path.join(tmp, "scenario")
    cfg = engine_config(sc, work, mode="conversation")
    sink = make_sink(cfg)
    try:
        replay_scenario(sc, cfg, sink)
    finally:
        sink.close()
    return _read(cfg)


@pytest.fixture(scope="session")
def engine_events(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("cim-events"))
    events = _captures(tmp) + _v5_protocols(tmp) + _scenario(tmp)
    return events


@pytest.fixture(scope="session")
def flows(engine_events):
    return [e for e in engine_events if e["sourcetype"] == "boundaryflow:flow"]


@pytest.fixture(scope="session")
def findings(engine_events):
    return [e for e in engine_events if e["sourcetype"] == "boundaryflow:finding"]


def psa_python():
    """Python of a venv with pytest-splunk-addon 6.4.0 (its pins clash with the dev .venv)."""
    py = os.path.join(PSA_VENV, "bin", "python")
    ok = os.path.exists(py) and subprocess.run(
        [py, "-c", "import pytest_splunk_addon, importlib.metadata as m; assert m.version('pytest-splunk-addon') == '6.4.0'"],
        capture_output=True).returncode == 0
    if not ok:
        subprocess.run([sys.executable, "-m", "venv", "--clear", PSA_VENV], check=True, capture_output=True)
        res = subprocess.run([py, "-m", "pip", "install", "-q", PSA_PIN], capture_output=True, text=True)
        if res.returncode != 0:
            pytest.skip("cannot install %s: %s" % (PSA_PIN, res.stderr[-500:]))
    return py


@pytest.fixture(scope="session")
def psa():
    return psa_python()


@pytest.fixture(scope="session")
def cim_models(psa):
    """{model name: {field name: field definition}} from pytest-splunk-addon's data_models JSON."""
    out = subprocess.run([psa, "-c", "import pytest_splunk_addon, os; print(os.path.dirname(pytest_splunk_addon.__file__))"],
                         capture_output=True, text=True, check=True).stdout.strip()
    models = {}
    for name in ("Network_Traffic", "Intrusion_Detection"):
        with open(os.path.join(out, "data_models", "%s.json" % name)) as fh:
            model = json.load(fh)
        (top,) = model["objects"]
        models[name] = {f["name"]: f for f in top["fields"]}
        models[name]["__tags__"] = top["tags"]
    return models
