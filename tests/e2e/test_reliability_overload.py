"""Overload (issue 7): a burst far above what the collector can decode is shed explicitly (kernel
socket drops counted in health), the collector keeps ticking, and a slow known set sent after the
burst is decoded completely."""
import os
import socket
import time

import pytest

from collector_process import CollectorProcess
from test_collect import v5_datagram
from test_reliability_support import SCALE, last_collector_health, read_events, send_paced, wait_for

pytestmark = pytest.mark.e2e
BURST, KNOWN = 40000 * SCALE, 200 * SCALE


def burst(port, n, records=30):
    """n v5 datagrams of 30 records each, sent as fast as the kernel takes them."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    d = v5_datagram([("10.1.%d.%d" % (j, j), "203.0.113.9", 40000 + j, 443, 6, 10, 1200, 0x1B)
                     for j in range(records)], seq=0)
    t0 = time.monotonic()
    for _ in range(n):
        s.sendto(d, ("127.0.0.1", port))
    s.close()
    return n / (time.monotonic() - t0)


def test_burst_above_capacity_is_shed_counted_and_recovered(tmp_path):
    col = CollectorProcess(tmp_path, collector="receive_buffer = 256KiB\n")
    path = os.path.join(col.work, "events.jsonl")
    offered = burst(col.port, BURST)
    h = wait_for(lambda: (lambda h: h if h.get("socket_drops", 0) > 0 else None)(last_collector_health(read_events(path))),
                 30, "socket_drops > 0 in a health event")
    # then a slow, known set: every one must be decoded
    known = [v5_datagram([("10.99.0.1", "203.0.113.9", 50000 + i, 443, 6, 1, 60, 0x02)], seq=90000 + i)
             for i in range(KNOWN)]
    send_paced(col.port, known, rate=200)
    wait_for(lambda: sum(1 for e in read_events(path) if e["sourcetype"] == "boundaryflow:flow"
                         and e["event"]["src"] == "10.99.0.1") == KNOWN, 30 * SCALE, "the known set decoded")
    assert col.stop() == 0, col.log()
    events = col.events()
    health = [e for e in events if e["sourcetype"] == "boundaryflow:health" and e["event"]["scope"] == "collector"]
    final = health[-1]["event"]
    times = [e["time"] for e in health]
    gaps = [b - a for a, b in zip(times, times[1:])]
    print("\noverload: offered %.0f datagrams/s (%d x 30 records); decoded %d, socket_drops %d; "
          "longest gap between health events %.1fs" % (offered, BURST, final["datagrams"], final["socket_drops"], max(gaps)))
    assert final["datagrams"] + final["socket_drops"] == BURST + KNOWN
    assert final["socket_drops"] >= h["socket_drops"] > 0
    assert max(gaps) < 5.0, gaps                # health kept coming: the loop never stalled
