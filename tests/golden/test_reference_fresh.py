"""The committed references are not stale: tshark, run now on a committed capture, yields exactly
the stored records (so a capture regenerated without its reference, or a hand-edited reference,
fails here). Re-checks one NetFlow/IPFIX capture with RFC 5103 biflows and one sFlow capture."""
from __future__ import annotations

import shutil

import pytest

import reflib
from golden_paths import REFERENCES, capture_path

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None,
                                reason="tshark not installed (./build.sh setup installs it)")


@pytest.mark.parametrize("name", ["softflowd_ipfix_bidir", "pmacct_sflow5_sampled"])
def test_tshark_now_gives_the_stored_reference(name):
    ref = reflib.load_reference("%s/%s.json" % (REFERENCES, name))
    fresh = reflib.tshark_records(capture_path(name), ref["kind"], ref["udp_port"])
    missing, unexpected = reflib.multiset_diff(ref["tshark"]["records"], fresh, reflib.RECORD_KEYS)
    assert not missing and not unexpected, "%s: stored reference != tshark now (%s)\n%s" % (
        name, reflib.tshark_version(), reflib.format_diff(missing, unexpected, reflib.RECORD_KEYS))
