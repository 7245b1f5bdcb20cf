"""Sanity run of the decoder over the real exporter captures under tests/golden (when present).

The golden tests proper (exact comparison with tshark/nfdump) live in tests/golden; this only
checks that every datagram of every capture decodes without error and yields well-formed flows.
"""
import glob
import os

import pytest

from boundaryflow import pcap
from boundaryflow.decode import DecodeError, ExporterState, decode

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden")
CAPTURES = sorted(glob.glob(os.path.join(GOLDEN, "**", "*.pcap*"), recursive=True))


@pytest.mark.skipif(not CAPTURES, reason="no captures under tests/golden yet")
@pytest.mark.parametrize("path", CAPTURES, ids=os.path.basename)
def test_capture_decodes_cleanly(path):
    datagrams = list(pcap.read_udp(path))
    if not datagrams:
        pytest.skip("capture holds no UDP datagrams (being regenerated?)")
    states, flows, errors = {}, 0, []
    for arrival, exporter, _port, payload in datagrams:
        st = states.setdefault(exporter, ExporterState())
        try:
            got = decode(payload, st, arrival)
        except DecodeError as e:
            errors.append(str(e))
            continue
        for f in got:
            assert f.src_ip and f.dest_ip and f.exporter is None
            assert f.bytes_out >= 0 and f.end >= f.start - 1e-6
        flows += len(got)
    assert not errors, errors[:3]
    assert flows > 0
    assert all(st.counters["malformed_sets"] == 0 for st in states.values())
    # captured over loopback: no export is lost, so any gap is a sequence-numbering misreading
    # (softflowd's IPFIX numbering, nfreplay's re-stamped uptime were such cases)
    assert sum(st.counters["sequence_gaps"] for st in states.values()) == 0
