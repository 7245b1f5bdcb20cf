"""The static SPL checker (content/lib/splcheck.py) on a small, hand-made inventory.

These tests pin what the checker catches, independently of the app's real content: a checker
that accepted everything would make tests/knowledge/test_content_spl.py worthless.
"""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "content"))

from lib.inventory import FieldSet  # noqa: E402
from lib.splcheck import Checker, SplError  # noqa: E402

MACROS = {
    ("flows", 0): ('index=main sourcetype="t:flow"', []),
    ("ctime", 1): ('convert ctime($field$)', ["field"]),
    ("internal", 1): ('cidrmatch("10.0.0.0/8", $ip$)', ["ip"]),
}
LOOKUPS = {"assets": ["cidr", "role", "name", "link_bps"]}
SOURCETYPES = {
    "t:flow": FieldSet({"_time", "src", "dest", "bytes", "bytes_out", "plane", "src_role", "flow_count"}),
    "t:finding": FieldSet({"_time", "signature", "src", "dest"}, {"evidence."}),
}
DATAMODELS = {"Network_Traffic": {"All_Traffic": {"_time", "src", "dest", "bytes_out", "action", "dest_port"},
                                  "Allowed_Traffic": {"_time", "src", "dest", "bytes_out", "action", "dest_port"}}}


@pytest.fixture
def checker():
    return Checker(MACROS, LOOKUPS, SOURCETYPES, DATAMODELS)


GOOD = [
    '`flows` plane=ingestion | stats sum(bytes) as b by src dest | where b > 100 | sort - b',
    '`flows` | eval gib=round(bytes/1073741824, 2), big=if(gib>1e3, "y", "n") | table src gib big',
    '`flows` | lookup assets cidr AS src OUTPUT role AS asset_role name | where asset_role="x" | table name',
    '`flows` | bin _time span=5m | stats sum(bytes) as b by _time src | `ctime(_time)`',
    '`flows` | where `internal(src)` | timechart span=1h sum(bytes) by plane',
    '`flows` | stats sum(bytes) as b by src plane | chart sum(b) over src by plane',
    '`flows` | sort 0 src _time | streamstats current=f window=1 last(_time) as prev by src | eval gap=_time-prev',
    '| tstats count sum(All_Traffic.bytes_out) as out from datamodel=Network_Traffic.All_Traffic '
    'where All_Traffic.action=allowed by All_Traffic.src All_Traffic.dest | rename All_Traffic.* as * '
    '| where out > 0 | table src dest count out',
    '| tstats count from datamodel=Network_Traffic.All_Traffic where nodename=All_Traffic.Allowed_Traffic '
    'by All_Traffic.src | rename All_Traffic.* as *',
    '| inputlookup assets | where role="gpu_node" | eval ip=cidr | table ip name | outputlookup new_file.csv',
    'sourcetype="t:finding" | stats values(evidence.*) as evidence.* by signature src',
    '`flows` | stats sum(eval(if(plane="x", flow_count, 0))) as x count as n by src',
    '`flows` src="$src$" | table src dest',
    '`flows` | stats count by src | append [| inputlookup assets | eval src=cidr | table src] | table src',
]

BAD = [
    ('`flows` | stats sum(bytez) as b by src', "bytez"),
    ('`flows` planet=ingestion', "planet"),
    ('`nope`', "nope"),
    ('`ctime`', "ctime"),
    ('`flows` | lookup assets cidr AS src OUTPUT rolez', "rolez"),
    ('`flows` | lookup assetz cidr AS src OUTPUT role', "assetz"),
    ('`flows` | lookup assets ip AS src OUTPUT role', "'ip'"),
    ('| tstats count from datamodel=Network_Traffic.All_Traffic by All_Traffic.srcc', "srcc"),
    ('| tstats count from datamodel=Network_Trafic.All_Traffic by All_Traffic.src', "Network_Trafic"),
    ('| tstats count from datamodel=Network_Traffic.All_Traffic where nodename=All_Traffic.Nope by All_Traffic.src',
     "Nope"),
    ('`flows` | stats count by src | eval x=bytes', "bytes"),
    ('`flows` | frobnicate x', "frobnicate"),
    ('sourcetype="t:finding" | table bytes', "bytes"),
    ('sourcetype="t:other" | table src', "t:other"),
    ('| tstats count from datamodel=Network_Traffic.All_Traffic by All_Traffic.src | rename All_Traffic.* as * '
     '| table dest', "dest"),
    ('| inputlookup assets | table cidr bytes', "bytes"),
    ('`flows` | rename nosuch as other', "nosuch"),
    ('`flows` | outputlookup somewhere', "somewhere"),
    ('`flows` | eval x="unbalanced', "unbalanced"),
    ('`flows` | sort - missing_field', "missing_field"),
    ('`flows` | timechart span=1h sum(bytes) by planet', "planet"),
]


@pytest.mark.parametrize("spl", GOOD)
def test_accepts_valid_searches(checker, spl):
    checker.check(spl)


@pytest.mark.parametrize("spl,needle", BAD)
def test_rejects_invalid_searches(checker, spl, needle):
    with pytest.raises(SplError) as err:
        checker.check(spl)
    assert needle.strip("'") in str(err.value)


def test_records_what_a_search_uses(checker):
    checker.check('`flows` | lookup assets cidr AS src OUTPUT role | `ctime(_time)`')
    assert ("flows", 0) in checker.used_macros and ("ctime", 1) in checker.used_macros
    assert checker.used_lookups == {"assets"}


def test_stats_replaces_fields_but_eventstats_keeps_them(checker):
    after_stats = checker.check('`flows` | stats count by src')
    assert "bytes" not in after_stats and "count" in after_stats
    after_eventstats = checker.check('`flows` | eventstats sum(bytes) as total by src')
    assert "bytes" in after_eventstats and "total" in after_eventstats


def test_fieldset_prefixes_cover_nested_json():
    fs = FieldSet({"a"}, {"evidence."})
    assert "evidence.bytes" in fs and "evidence.*" in fs and "a" in fs
    assert "b" not in fs and "evidenc" not in fs
