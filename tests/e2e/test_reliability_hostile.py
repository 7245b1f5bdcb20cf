"""Hostile input against a live ``boundaryflow collect`` (issue 7): one malformed datagram must never
stop collection. The decoders and the pipeline are fuzzed in-process (tests/fuzz, tests/unit/
test_reliability_pipeline.py); this checks the process survives what they find."""
import struct
import time

import pytest

from collector_process import CollectorProcess
from test_collect import v5_datagram
from test_reliability_support import wait_for

pytestmark = pytest.mark.e2e


def sflow_sampled_ipv4(sport):
    """An sFlow v5 datagram with one flow sample holding a 'sampled_ipv4' record (format 3)."""
    rec = struct.pack("!II4s4sIIII", 1500, 6, bytes((10, 1, 0, 5)), bytes((203, 0, 113, 9)), sport, 443, 0x12, 0)
    rec = struct.pack("!II", 3, len(rec)) + rec
    sample = struct.pack("!IIIIIIII", 1, 3, 512, 512, 0, 3, 4, 1) + rec
    sample = struct.pack("!II", 1, len(sample)) + sample
    return struct.pack("!IIIIIII", 5, 1, 0xC0000201, 0, 1, 100000, 1) + sample


def test_one_malformed_datagram_does_not_stop_collection(tmp_path):
    col = CollectorProcess(tmp_path)
    col.send([sflow_sampled_ipv4(70000)])
    col.send([sflow_sampled_ipv4(40000)])            # the same record with a valid port
    time.sleep(1.0)
    col.send([v5_datagram([("10.1.0.5", "203.0.113.9", 40001, 443, 6, 10, 1200, 0x1B)], seq=0)])
    try:
        wait_for(lambda: col.proc.poll() is not None or
                 len([e for e in col.events() if e["sourcetype"] == "boundaryflow:flow"]) >= 2, 15,
                 "the valid flows")
    finally:
        alive = col.proc.poll() is None
        if alive:
            col.stop()
    assert alive, "collector exited: " + col.log()[-1500:]
