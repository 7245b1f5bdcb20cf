"""An unreachable HEC endpoint behind a live ``boundaryflow collect`` (issue 7): events go to the
bounded on-disk spool, and when HEC answers again the spool drains in order with nothing lost.
The sink-level cases (overflow counted, acks, busy server, spool left by a stopped collector) are in
test_hec_sink.py; this is the same promise end to end through a real process."""
import os
import signal
import subprocess
import time

import pytest

from collector_process import boundaryflow_exe, free_udp_port, wait_bound
from test_collect import v5_datagram
from test_hec_sink import TOKEN, FakeHec, certs  # noqa: F401  (certs: the module-scoped PKI fixture)
from test_reliability_support import SCALE, send_paced, wait_for

pytestmark = pytest.mark.e2e


def flow_ports(server):
    return [e["event"]["src_port"] for e in server.events if e.get("sourcetype") == "boundaryflow:flow"]


def test_hec_outage_is_spooled_and_drained_in_order_by_a_live_collector(tmp_path, certs):  # noqa: F811
    hec = FakeHec(certs)
    hec.stop()                                       # HEC is down when the collector starts
    port = free_udp_port()
    ini = tmp_path / "bf.ini"
    ini.write_text("[collector]\nlisten = 127.0.0.1:%d\nstate_dir = state\nhealth_interval = 1s\n"
                   "[enrichment]\nlookups_dir = lookups\n[reduction]\nmode = flow\n"
                   "[output]\nsink = hec\nhec_url = https://127.0.0.1:%d\nhec_token_env = BF_TEST_HEC_TOKEN\n"
                   "hec_ca_bundle = %s\nhec_batch = 16KiB\nhec_batch_interval = 200ms\n" % (port, hec.port, certs["ca"]))
    (tmp_path / "lookups").mkdir()
    err = open(tmp_path / "stderr.log", "w")
    proc = subprocess.Popen([boundaryflow_exe(), "collect", "--config", str(ini)], cwd=str(tmp_path),
                            env=dict(os.environ, BF_TEST_HEC_TOKEN=TOKEN), stdout=subprocess.DEVNULL, stderr=err)
    n1, n2 = 300 * SCALE, 100 * SCALE

    def records(lo, hi):
        return [v5_datagram([("10.1.0.5", "203.0.113.9", 40000 + i, 443, 6, 1, 60, 0x1B)], seq=i) for i in range(lo, hi)]
    try:
        wait_bound(port, proc)
        send_paced(port, records(0, n1), rate=500)
        spool = tmp_path / "state" / "spool"
        wait_for(lambda: spool.exists() and len(os.listdir(spool)) >= 2, 30, "batches in the spool")
        time.sleep(1.5)
        spooled = len(os.listdir(spool))
        hec.start()                                  # HEC is back (same port)
        send_paced(port, records(n1, n1 + n2), rate=500)
        wait_for(lambda: len(flow_ports(hec)) >= n1 + n2, 60, "every flow delivered")
        wait_for(lambda: not os.listdir(spool), 30, "the spool drained")
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(60)
        err.close()
        hec.stop()
    assert rc == 0
    got = flow_ports(hec)
    assert got == list(range(40000, 40000 + n1 + n2)), "lost or reordered"      # in order, none twice
    health = [e["event"] for e in hec.events if e.get("sourcetype") == "boundaryflow:health"
              and e["event"].get("scope") == "collector"]
    out = health[-1]["output"]
    print("\nHEC outage: %d spool batches while down, %d flows delivered in order after it came back; "
          "output health: spooled %d, dropped %d, duplicates_possible %d, connection_errors %d"
          % (spooled, len(got), out["events_spooled"], out["spool_dropped_events"], out["duplicates_possible"],
             out["connection_errors"]))
    assert out["events_spooled"] > 0 and out["connection_errors"] > 0
    assert out["spool_dropped_events"] == 0
