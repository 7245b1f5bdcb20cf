"""Faults (issue 7): SIGTERM, kill -9, corrupt state files, a slow stdout reader - each against a real
``boundaryflow collect`` process over loopback UDP."""
import glob
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from collector_process import CollectorProcess, boundaryflow_exe, free_udp_port, wait_bound
from test_collect import v5_datagram
from test_reliability_support import (SCALE, datagrams, finding_keys, last_collector_health, read_events, reference_findings,
                                      scenario_sections, send_paced, small_scenario, wait_datagrams, wait_for)

pytestmark = pytest.mark.e2e


def flows(events, src=None):
    return [e["event"] for e in events if e["sourcetype"] == "boundaryflow:flow"
            and (src is None or e["event"]["src"] == src)]


def test_sigterm_flushes_pending_events_and_state_for_the_next_start(tmp_path):
    sc = small_scenario()
    msgs = list(datagrams(sc))
    collector, extra = scenario_sections(sc, tmp_path)
    col = CollectorProcess(tmp_path, collector=collector, extra=extra)
    col.send(msgs[:40])          # the first carries the IPFIX templates
    assert col.stop(signal.SIGTERM) == 0, col.log()    # at once: nothing waited for a tick
    events = col.events()
    assert last_collector_health(events)["datagrams"] == 40
    n_flows = len(flows(events))
    assert n_flows == last_collector_health(events)["flows_in"] - last_collector_health(events)["duplicates"] > 0
    state = json.load(open(tmp_path / "state" / "templates.json"))
    assert state["exporters"]["127.0.0.1"], "templates not persisted on SIGTERM"
    detect = json.load(open(tmp_path / "state" / "detect_state.json"))
    assert detect, "detector state not persisted on SIGTERM"
    assert "flushing state" in col.log()
    # The next start decodes data sets at once with the saved templates (no template in this datagram
    # once the exporter's refresh is skipped: IPFIX data-only messages follow the first).
    col2 = CollectorProcess(tmp_path, collector=collector, extra=extra, port=col.port)
    col2.send(msgs[40:60])
    wait_datagrams(col2, 20)
    assert col2.stop() == 0
    h = last_collector_health(read_events(os.path.join(col2.work, "events.jsonl")))
    assert h["template_misses"] == 0 and h["decode_errors"] == 0, h


def test_kill9_loses_at_most_one_interval_and_repeats_no_finding(tmp_path):
    """Half the scenario, wait for the periodic state save, kill -9, restart on the same state_dir and
    send the other half: the findings equal an uninterrupted run's, none twice."""
    sc = small_scenario()
    msgs = list(datagrams(sc))
    half = len(msgs) // 2
    collector, extra = scenario_sections(sc, tmp_path)
    col = CollectorProcess(tmp_path, collector=collector, extra=extra)
    started = time.monotonic()
    send_paced(col.port, msgs[:half])
    wait_datagrams(col, half)
    detect_state = tmp_path / "state" / "detect_state.json"
    # the collector saves state every max(60s, health_interval) of wall time
    wait_for(detect_state.exists, 90, "the periodic state save")
    saved_after = time.monotonic() - started
    col.proc.kill()
    col.proc.wait(10)
    col.stderr.close()
    col2 = CollectorProcess(tmp_path, collector=collector, extra=extra, port=col.port)
    send_paced(col2.port, msgs[half:])
    wait_datagrams(col2, len(msgs) - half)
    assert col2.stop() == 0, col2.log()
    got = finding_keys(read_events(str(tmp_path / "events.jsonl")))
    expected = reference_findings(sc, tmp_path / "reference")
    print("\nkill -9 after the state save at %.0fs: %d findings (%d expected), repeated: %s"
          % (saved_after, sum(got.values()), sum(expected.values()),
             sorted(k for k, n in got.items() if n > expected.get(k, 0))))
    assert sum(expected.values()) >= 10
    assert got == expected


def run_with_state(tmp_path, templates=None, detect=None):
    state = tmp_path / "state"
    state.mkdir()
    if templates is not None:
        (state / "templates.json").write_text(templates)
    if detect is not None:
        (state / "detect_state.json").write_text(detect)
    col = CollectorProcess(tmp_path)
    col.send([v5_datagram([("10.1.0.5", "203.0.113.9", 40000 + i, 443, 6, 10, 1200, 0x1B)], seq=i)
              for i in range(5)])
    wait_datagrams(col, 5)
    assert col.stop() == 0, col.log()
    assert len(flows(col.events())) == 5          # started fresh and collected
    return state, col


def test_corrupt_templates_file_is_set_aside_with_a_message(tmp_path):
    state, col = run_with_state(tmp_path, templates='{"exporters": {"127.0.0.1": ')   # a torn write
    assert len(glob.glob(str(state / "templates.json.corrupt-*"))) == 1, os.listdir(state)
    assert "state file %s is unreadable" % (state / "templates.json") in col.log()
    json.load(open(state / "templates.json"))          # a good file was written in its place


def test_corrupt_detector_state_is_set_aside_and_reported_in_health(tmp_path):
    state, col = run_with_state(tmp_path, detect='{"version": 1, "exfil": {')
    assert glob.glob(str(state / "detect_state.json.corrupt*")), os.listdir(state)
    err = last_collector_health(col.events())["detection"]["state_file"]["error"]
    assert "detect_state.json" in err and "starting fresh" in err
    json.load(open(state / "detect_state.json"))


def test_detector_state_of_the_wrong_shape_is_set_aside_with_a_log_message(tmp_path):
    state, col = run_with_state(tmp_path, detect="[1, 2, 3]")
    assert "detect_state.json" in col.log()
    assert glob.glob(str(state / "detect_state.json.corrupt*")), os.listdir(state)


def test_slow_stdout_reader_backpressure_is_counted_not_silent(tmp_path):
    """[output] path = - to a pipe that the reader drains slowly (a busy splunkd). The collector
    blocks on stdout, the kernel drops datagrams in its socket buffer, and every datagram is either
    decoded or counted in socket_drops; when the reader catches up nothing more is lost."""
    port = free_udp_port()
    ini = tmp_path / "bf.ini"
    ini.write_text("[collector]\nlisten = 127.0.0.1:%d\nstate_dir = state\nhealth_interval = 1s\n"
                   "receive_buffer = 256KiB\n[reduction]\nmode = flow\n[output]\nsink = jsonl\npath = -\n" % port)
    proc = subprocess.Popen([boundaryflow_exe(), "collect", "--config", str(ini)], cwd=str(tmp_path),
                            stdout=subprocess.PIPE, stderr=open(tmp_path / "stderr.log", "w"), bufsize=0)
    wait_bound(port, proc)
    lines, slow = [], [True]

    def reader():
        while True:
            chunk = proc.stdout.read(4096)
            if not chunk:
                return
            lines.append(chunk)
            if slow[0]:
                time.sleep(0.02)         # ~200 KB/s: far below what the collector writes
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    burst = [v5_datagram([("10.1.%d.%d" % (i // 250, i % 250), "203.0.113.9", 40000 + j, 443, 6, 10, 1200, 0x1B)
                          for j in range(30)], seq=i * 30) for i in range(3000 * SCALE)]
    t0 = time.monotonic()
    send_paced(port, burst, rate=3000)
    send_s = time.monotonic() - t0
    time.sleep(2)
    slow[0] = False                      # the reader catches up
    known = [v5_datagram([("10.99.0.1", "203.0.113.9", 50000 + i, 443, 6, 1, 60, 0x02)], seq=90000 + i)
             for i in range(100)]
    time.sleep(3)
    send_paced(port, known, rate=200)
    time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    t.join(10)
    events = [json.loads(x) for x in b"".join(lines).decode().splitlines() if x.strip()]
    h = last_collector_health(events)
    got = flows(events)
    print("\nslow stdout reader: %d datagrams sent in %.1fs, %d decoded, %d socket_drops, %d flow events; "
          "%d/100 of the later known set" % (len(burst) + len(known), send_s, h["datagrams"], h["socket_drops"],
                                             len(got), len([f for f in got if f["src"] == "10.99.0.1"])))
    assert h["datagrams"] + h["socket_drops"] == len(burst) + len(known)     # nothing silent
    assert len(got) == h["flows_in"] - h["duplicates"]                      # every decoded record written
    assert len([f for f in got if f["src"] == "10.99.0.1"]) == 100          # recovered once Splunk caught up
