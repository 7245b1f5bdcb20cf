"""Our decoder against independent decoders, on captures made by real exporters.

For every capture in tests/golden/captures (softflowd, pmacct nfprobe/sfprobe, nfdump's nfreplay),
`boundaryflow.pipeline.decode_capture` must yield the same records as tshark - and as nfdump, where
nfdump read the same export (NetFlow/IPFIX) - compared as multisets: record count, exporter,
addresses, ports, protocol, forward and RFC 5103 reverse bytes/packets, TCP flags, sampling rate,
and start/end times to the exporter's resolution. The references are in tests/golden/reference and
are regenerated with `./build.sh captures` (see README.md there).
"""
from __future__ import annotations

import pytest

import reflib
from golden_paths import REFERENCES, capture_names, capture_path

try:
    from boundaryflow.pipeline import decode_capture
except ImportError:   # the lead's pipeline API (DESIGN.md §2); until it lands there is nothing to check
    decode_capture = None

pytestmark = pytest.mark.skipif(decode_capture is None, reason="decoder not available yet")

NAMES = capture_names()
# Everything but times, which are compared with a tolerance.
FIELDS = ("exporter", "src_ip", "dest_ip", "src_port", "dest_port", "protocol", "bytes", "packets",
          "bytes_rev", "packets_rev", "tcp_flags", "sampling_rate")
NFDUMP_FIELDS = ("exporter", "src_ip", "dest_ip", "src_port", "dest_port", "protocol", "bytes", "packets",
                 "bytes_rev", "packets_rev")

_cache = {}


def ours(name):
    """decode_capture once per capture per session (several tests read it)."""
    if name not in _cache:
        _cache[name] = [reflib.flow_to_record(f) for f in decode_capture(capture_path(name))]
    return _cache[name]


def reference(name):
    return reflib.load_reference("%s/%s.json" % (REFERENCES, name))


def test_every_capture_has_a_reference():
    assert len(NAMES) >= 10, NAMES


@pytest.mark.parametrize("name", NAMES)
def test_record_count_equals_tshark(name):
    expected = reference(name)["tshark"]["records"]
    assert len(ours(name)) == len(expected), "%s: %d records decoded, tshark finds %d" % (
        name, len(ours(name)), len(expected))


@pytest.mark.parametrize("name", NAMES)
def test_records_equal_tshark(name):
    expected = reflib.zero_missing_flags(reference(name)["tshark"]["records"])
    actual = reflib.zero_missing_flags(ours(name))
    missing, unexpected = reflib.multiset_diff(expected, actual, FIELDS)
    assert not missing and not unexpected, "%s vs tshark\n%s" % (
        name, reflib.format_diff(missing, unexpected, FIELDS))


@pytest.mark.parametrize("name", NAMES)
def test_times_equal_tshark(name):
    ref = reference(name)
    bad = reflib.time_mismatches(ref["tshark"]["records"], ours(name), FIELDS[:10],
                                 ref["time_resolution"] + 1e-6)
    assert not bad, "%s: %d records with other start/end than tshark (reference, ours), e.g.\n%s" % (
        name, len(bad), "\n".join(repr(b) for b in bad[:10]))


KEY_FIELDS = NFDUMP_FIELDS[:6]


def _nfdump_fields(ref):
    """Compare with nfdump what nfdump and tshark agree on; say why the rest is tshark's alone."""
    agrees = ref["nfdump"]["agrees_with_tshark"]
    assert agrees["keys"], "nfdump and tshark disagree on the flows themselves in %s" % ref["capture"]
    return NFDUMP_FIELDS if agrees["counters"] else KEY_FIELDS


@pytest.mark.parametrize("name", [n for n in NAMES if "nfdump" in reference(n)])
def test_records_equal_nfdump(name):
    ref = reference(name)
    fields = _nfdump_fields(ref)
    missing, unexpected = reflib.multiset_diff(reflib.mask_icmp_ports(ref["nfdump"]["records"]),
                                               reflib.mask_icmp_ports(ours(name)), fields)
    assert not missing and not unexpected, "%s vs nfdump (%s)\n%s" % (
        name, "; ".join(ref["nfdump"]["notes"]), reflib.format_diff(missing, unexpected, fields))


@pytest.mark.parametrize("name", [n for n in NAMES if "nfdump" in reference(n)])
def test_times_equal_nfdump(name):
    ref = reference(name)
    if not ref["nfdump"]["agrees_with_tshark"]["times"]:
        # e.g. nfdump 1.7.1 swaps start and end of softflowd's IPFIX records; tshark decodes them in
        # order, so tshark alone is the reference for times there.
        pytest.skip("nfdump's times disagree with tshark's on %s: %s" % (name, "; ".join(ref["nfdump"]["notes"])))
    bad = reflib.time_mismatches(reflib.mask_icmp_ports(ref["nfdump"]["records"]),
                                 reflib.mask_icmp_ports(ours(name)), _nfdump_fields(ref), ref["time_resolution"] + 1e-6)
    assert not bad, "%s: %d records with other times than nfdump, e.g. %r" % (name, len(bad), bad[:5])
