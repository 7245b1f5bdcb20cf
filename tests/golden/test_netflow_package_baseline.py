"""The PyPI `netflow` package (the design card's baseline) measured on the golden captures, so the
README's claim stays true for the pinned version (requirements-dev.txt). The numbers come from
scripts/captures/netflow_package_check.py; if a new `netflow` release fixes these, this test fails
and the README / DESIGN.md §7 numbers must be updated.
"""
from __future__ import annotations

import importlib.util
import os

import pytest

from golden_paths import HERE

pytest.importorskip("netflow", reason="the `netflow` package is not installed (requirements-dev.txt)")

_spec = importlib.util.spec_from_file_location(
    "netflow_package_check", os.path.join(HERE, "..", "..", "scripts", "captures", "netflow_package_check.py"))
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)


@pytest.mark.parametrize("name", ["softflowd_v5", "softflowd_v9", "pmacct_v9", "softflowd_ipfix"])
def test_harness_is_fair_plain_exports_decode_fully(name):
    """The measurement harness is not the problem: plain v5/v9/IPFIX records decode one for one."""
    r = check.measure(name)
    assert r["decoded_flows"] == r["reference_flows"] and not r["errors"], r


def test_pmacct_ipfix_with_enterprise_and_variable_length_fields_decodes_nothing():
    r = check.measure("pmacct_ipfix")
    assert r["reference_flows"] == 232
    assert r["decoded_flows"] == 0, r
    assert r["errors"].get("PaddingCalculationError", 0) > 0, r


def test_rfc5103_biflows_lose_reverse_counters():
    r = check.measure("softflowd_ipfix_bidir")
    assert r["biflow_records"] > 100, r
    assert r["records_with_reverse_counters"] == 0, r          # reverse IEs are not kept apart...
    assert r["records_with_wrong_forward_counters"] >= r["biflow_records"] // 2, r   # ...they overwrite forward ones
