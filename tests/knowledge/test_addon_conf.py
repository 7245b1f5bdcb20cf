"""The add-on's knowledge objects: props/transforms/eventtypes/tags and the shipped CSV lookups."""
import configparser
import csv
import glob
import ipaddress
import os

import pytest

from boundaryflow.lookups import parse_network, read_lookup
from boundaryflow.model import SOURCETYPE_FINDING, SOURCETYPE_FLOW, SOURCETYPE_HEALTH
from boundaryflow.scenario.model import LOOKUP_COLUMNS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT = os.path.join(ROOT, "package", "default")
LOOKUPS = os.path.join(ROOT, "package", "lookups")
DOC_RANGES = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]


def conf(name):
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str
    parser.read(os.path.join(DEFAULT, name))
    return parser


def test_sourcetypes_are_search_time_json():
    props = conf("props.conf")
    for st in (SOURCETYPE_FLOW, SOURCETYPE_FINDING, SOURCETYPE_HEALTH):
        stanza = props[st]
        assert stanza["KV_MODE"] == "json"
        assert "INDEXED_EXTRACTIONS" not in stanza
        assert stanza["SHOULD_LINEMERGE"] == "false"
    # tcp_flag is a JSON array: KV_MODE=json extracts it as tcp_flag{}, CIM wants tcp_flag
    assert props[SOURCETYPE_FLOW]["FIELDALIAS-boundaryflow_tcp_flag"] == '"tcp_flag{}" AS tcp_flag'


def test_eventtypes_cover_every_sourcetype_and_tags_name_existing_eventtypes():
    eventtypes, tags = conf("eventtypes.conf"), conf("tags.conf")
    searched = {eventtypes[s]["search"] for s in eventtypes.sections()}
    for st in (SOURCETYPE_FLOW, SOURCETYPE_FINDING, SOURCETYPE_HEALTH):
        assert 'sourcetype="%s"' % st in searched
    for section in tags.sections():
        assert section.startswith("eventtype=") and section.split("=", 1)[1] in eventtypes.sections()


# Lookups that Splunk searches write (outputlookup) for other apps, not read by the engine:
# the ES asset export (columns of Enterprise Security's asset lookup).
SEARCH_WRITTEN = {"boundaryflow_es_assets.csv": ("ip", "mac", "nt_host", "dns", "owner", "priority", "lat", "long",
                                                 "city", "country", "bunit", "category", "pci_domain", "is_expected",
                                                 "should_timesync", "should_update", "requires_av")}


def test_every_lookup_file_has_a_definition_and_every_definition_a_file():
    transforms = conf("transforms.conf")
    files = {os.path.basename(p) for p in glob.glob(os.path.join(LOOKUPS, "*.csv"))}
    defined = {transforms[s]["filename"]: s for s in transforms.sections() if "filename" in transforms[s]}
    columns = dict(LOOKUP_COLUMNS, **SEARCH_WRITTEN)
    assert set(defined) == files == set(columns)
    for filename, stanza in defined.items():
        assert stanza == filename[:-4]
        with open(os.path.join(LOOKUPS, filename), newline="") as fh:
            header = next(csv.reader(fh))
        assert tuple(header) == columns[filename]        # the columns the engine (or ES) reads
        match = transforms[stanza].get("match_type", "")
        if match:
            assert match.startswith("CIDR(") and match[5:-1] in header


@pytest.mark.parametrize("filename", sorted(LOOKUP_COLUMNS))
def test_lookups_explain_themselves_and_examples_never_match_real_traffic(filename):
    path = os.path.join(LOOKUPS, filename)
    with open(path) as fh:
        lines = fh.read().splitlines()
    assert any(ln.startswith("# ") for ln in lines[1:3]), "instructions right after the header"
    rows, bad = read_lookup(path, required=LOOKUP_COLUMNS[filename][:1])
    assert rows and bad == 0
    key = LOOKUP_COLUMNS[filename][0]
    for row in rows:
        assert not row[key].startswith("#")                    # comments are skipped by the engine
        net = parse_network(row[key])
        assert net is not None, row
        assert any(net.version == d.version and net.subnet_of(d) for d in DOC_RANGES), row
