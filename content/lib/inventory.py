"""What a search may name: event fields (from the engine), app macros and lookups, CIM data models.

Nothing here can run SPL, so the static checks compare every name a search uses with these
inventories. Event fields come from the engine itself (model.flow_event, model.Finding.event,
pipeline.health_events), lookups from transforms.conf and the shipped CSV headers, macros from
macros.conf, data-model fields from the CIM JSON that pytest-splunk-addon 6.4.0 ships.
"""
from __future__ import annotations

import ast
import configparser
import csv
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "package"
ENGINE = PACKAGE / "bin"
PSA_VERSION = "6.4.0"

# Fields Splunk adds to every event (and the time-modifier pseudo fields a search may set).
SPLUNK_DEFAULT_FIELDS = frozenset((
    "_time", "_raw", "_indextime", "_cd", "_bkt", "_serial", "_si", "_sourcetype", "host", "source",
    "sourcetype", "index", "splunk_server", "eventtype", "linecount", "punct", "tag", "timestartpos",
    "timeendpos", "date_hour", "date_mday", "date_minute", "date_month", "date_second", "date_wday",
    "date_year", "date_zone",
))
SEARCH_MODIFIERS = frozenset((
    "index", "sourcetype", "source", "host", "eventtype", "tag", "earliest", "latest", "_index_earliest",
    "_index_latest", "starthoursago", "endhoursago", "startminutesago", "endminutesago", "nodename",
    "splunk_server", "savedsearch", "_time",
))


class Conf(object):
    """A Splunk .conf file as {stanza: {key: value}} (no interpolation, keys case-sensitive)."""

    def __init__(self, path):
        self.stanzas = {}
        if not pathlib.Path(path).exists():
            return
        cp = configparser.RawConfigParser(strict=False, interpolation=None, delimiters=("=",),
                                          comment_prefixes=("#",), inline_comment_prefixes=None)
        cp.optionxform = str
        cp.read_string("[__default__]\n" + pathlib.Path(path).read_text())
        for name in cp.sections():
            if name != "__default__":
                self.stanzas[name] = dict(cp.items(name))


def macros():
    """{name: number of arguments} of package/default/macros.conf."""
    out = {}
    for stanza in Conf(PACKAGE / "default" / "macros.conf").stanzas:
        if stanza.endswith(")") and "(" in stanza:
            name, _, n = stanza[:-1].partition("(")
            out[name] = int(n)
        else:
            out[stanza] = 0
    return out


def macro_definitions():
    """{(name, nargs): (definition, [arg names])}."""
    out = {}
    for stanza, kv in Conf(PACKAGE / "default" / "macros.conf").stanzas.items():
        if stanza.endswith(")") and "(" in stanza:
            name, _, n = stanza[:-1].partition("(")
            args = [a.strip() for a in kv.get("args", "").split(",") if a.strip()]
            out[(name, int(n))] = (kv["definition"], args)
        else:
            out[(stanza, 0)] = (kv["definition"], [])
    return out


def _csv_header(path):
    with open(path, newline="") as fh:
        for row in csv.reader(fh):
            if row and not row[0].startswith("#"):
                return [c.strip() for c in row]
    return []


def lookups():
    """{lookup name: [columns]}: transforms.conf definitions and the CSV files (by file name)."""
    out = {}
    lookup_dir = PACKAGE / "lookups"
    for path in sorted(lookup_dir.glob("*.csv")):
        out[path.name] = _csv_header(path)
    for name, kv in Conf(PACKAGE / "default" / "transforms.conf").stanzas.items():
        if "filename" in kv:
            path = lookup_dir / kv["filename"]
            out[name] = _csv_header(path) if path.exists() else []
        elif "collection" in kv:
            out[name] = [f.strip() for f in kv.get("fields_list", "").split(",") if f.strip()]
    return out


# -- event fields ---------------------------------------------------------------------------------
def _engine():
    if str(ENGINE) not in sys.path:
        sys.path.insert(0, str(ENGINE))
    import boundaryflow.model as model
    return model


def flow_fields():
    """Every key flow_event can write: a record with every optional attribute set."""
    model = _engine()
    flow = model.Flow()
    flow.src_ip, flow.dest_ip, flow.protocol_number, flow.exporter = "10.0.0.1", "10.0.0.2", 6, "10.0.0.9"
    # every attribute whose class default is None is optional: set them all, so each can show
    for name in dir(model.Flow):
        if not name.startswith("_") and getattr(model.Flow, name, 0) is None and name not in ("vendor", "action"):
            setattr(flow, name, "x")
    return set(model.flow_event(flow))


def finding_fields():
    """Finding.event keys; evidence is a nested object, searchable as evidence.<key>."""
    model = _engine()
    ev = model.Finding(0.0, "s", "1", "low", "c", "a", "b", dest_port=1, user="u", dvc="d").event()
    return set(ev) - {"evidence"}


def health_fields():
    """Keys of the health events: the string keys of pipeline.health_events' dict literals and
    subscript assignments (read from source: the health code needs a running pipeline)."""
    tree = ast.parse((ENGINE / "boundaryflow" / "pipeline.py").read_text())
    fields, nested = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "health_events":
            for sub in ast.walk(node):
                if isinstance(sub, ast.Dict):
                    fields.update(k.value for k in sub.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
                elif isinstance(sub, ast.Assign):
                    for target in sub.targets:
                        if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
                            key = target.slice.value
                            # total["enrichment"] = self.enricher.health(): a nested object
                            if isinstance(sub.value, ast.Call):
                                nested.add(key)
                            else:
                                fields.add(key)
    return fields, nested


class FieldSet(object):
    """Exact field names plus prefixes of nested JSON objects (evidence. -> evidence.<anything>)."""

    def __init__(self, names=(), prefixes=()):
        self.names = set(names)
        self.prefixes = set(prefixes)

    def copy(self):
        return FieldSet(self.names, self.prefixes)

    def add(self, name):
        if name.endswith("*"):
            self.prefixes.add(name[:-1])
        else:
            self.names.add(name)

    def __contains__(self, name):
        if name in self.names:
            return True
        if name.endswith("*"):
            stem = name[:-1]
            return (any(n.startswith(stem) for n in self.names)
                    or any(p.startswith(stem) or stem.startswith(p) for p in self.prefixes))
        return any(name.startswith(p) for p in self.prefixes)

    def union(self, other):
        return FieldSet(self.names | other.names, self.prefixes | other.prefixes)


def sourcetype_fields():
    """{sourcetype: FieldSet} of the three sourcetypes (Splunk default fields included)."""
    health, nested = health_fields()
    return {
        "boundaryflow:flow": FieldSet(flow_fields() | SPLUNK_DEFAULT_FIELDS),
        "boundaryflow:finding": FieldSet(finding_fields() | SPLUNK_DEFAULT_FIELDS, {"evidence."}),
        "boundaryflow:health": FieldSet(health | SPLUNK_DEFAULT_FIELDS, {k + "." for k in nested}),
    }


# -- CIM data models --------------------------------------------------------------------------------
def _psa_dir():
    """pytest-splunk-addon's package directory: BOUNDARYFLOW_PSA_DIR, .cache/psa, or fetched from PyPI."""
    env = os.environ.get("BOUNDARYFLOW_PSA_DIR")
    if env:
        return pathlib.Path(env)
    target = ROOT / ".cache" / "psa"
    models = target / "pytest_splunk_addon" / "data_models"
    if not models.is_dir():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp,
                            "pytest-splunk-addon==%s" % PSA_VERSION], check=True)
            wheel = next(pathlib.Path(tmp).glob("pytest_splunk_addon-*.whl"))
            with zipfile.ZipFile(wheel) as zf:
                members = [m for m in zf.namelist() if m.startswith("pytest_splunk_addon/data_models/")]
                zf.extractall(target, members)
    return target / "pytest_splunk_addon"


def datamodels():
    """{model: {dataset: set(fields)}}; a child dataset inherits its parents' fields."""
    out = {}
    for path in sorted((_psa_dir() / "data_models").glob("*.json")):
        doc = json.loads(path.read_text())
        datasets = {}

        def walk(objs, inherited):
            for obj in objs:
                fields = set(inherited) | {f["name"] for f in obj.get("fields", [])}
                fields |= {"_time", "host", "source", "sourcetype"}
                datasets[obj["name"]] = fields
                walk(obj.get("child_dataset", []), fields)

        walk(doc["objects"], set())
        out[doc["model_name"]] = datasets
    return out
