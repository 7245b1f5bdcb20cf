"""Several collector workers on one machine sharing the listen ports (SO_REUSEPORT).

The kernel's default SO_REUSEPORT hash covers source address AND port, so an exporter that sends
from changing ports would spread over workers and lose its templates and detector state. We attach
a classic BPF program to each reuseport group that picks the socket by the exporter's ADDRESS only
(SO_ATTACH_REUSEPORT_CBPF), so every exporter stays on one worker.

Each worker is a forked process with its own Pipeline and state directory (``state_dir/worker-N``)
and writes its own health events (``worker`` field); sink writes are serialized with a lock so
events from several workers never interleave inside a line.
"""
from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import struct
import threading
import time

log = logging.getLogger("boundaryflow")

SO_ATTACH_REUSEPORT_CBPF = 51
_SKF_NET_OFF = -0x100000          # BPF offset base of the network header


def _insn(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k & 0xFFFFFFFF)


def address_hash_program(workers):
    """cBPF: socket index = (exporter address low 32 bits) mod workers, for IPv4 and IPv6."""
    net = _SKF_NET_OFF
    return b"".join([
        _insn(0x30, 0, 0, net + 0),      # ldb [net+0]        version nibble
        _insn(0x54, 0, 0, 0xF0),         # and #0xf0
        _insn(0x15, 0, 2, 0x60),         # jeq #0x60 ? next : +2
        _insn(0x20, 0, 0, net + 20),     # ld  [net+20]       IPv6 source, last 32 bits
        _insn(0x05, 0, 0, 1),            # ja  +1
        _insn(0x20, 0, 0, net + 12),     # ld  [net+12]       IPv4 source
        _insn(0x94, 0, 0, workers),      # mod #workers
        _insn(0x16, 0, 0, 0),            # ret a
    ])


def attach_address_hash(sock, workers):
    prog = address_hash_program(workers)
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = struct.pack("HP", len(prog) // 8, ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog)
    return buf   # keep alive until attached (the kernel copies it)


def worker_index_for(address, workers):
    """The worker the CBPF program sends an exporter to (same arithmetic, for tests and docs)."""
    packed = socket.inet_pton(socket.AF_INET6 if ":" in address else socket.AF_INET, address)
    return struct.unpack("!I", packed[-4:])[0] % workers


class LockedSink(object):
    """Serializes writes of several processes to one output."""

    def __init__(self, sink, lock):
        self.sink, self.lock = sink, lock

    def write(self, envelopes):
        with self.lock:
            self.sink.write(envelopes)
            self.sink.flush()

    def flush(self):
        with self.lock:
            self.sink.flush()

    def close(self):
        with self.lock:
            self.sink.close()

    def health(self):
        return self.sink.health()


def open_groups(cfg, workers):
    """For each listen address, ``workers`` sockets in one reuseport group, CBPF attached."""
    from .collector import open_udp_socket
    groups = []
    for host, port in cfg.collector.listen:
        socks = [open_udp_socket(host, port, cfg.collector.receive_buffer, reuseport=True) for _ in range(workers)]
        try:
            attach_address_hash(socks[0], workers)
        except OSError as e:
            log.warning("udp %s:%d: address-hash steering unavailable (%s); kernel hashes address+port", host, port, e)
        groups.append(socks)
    return groups


def _worker_main(cfg, index, socks, lock, stop_evt):
    from . import config as config_mod
    from .collector import Collector
    from .sinks import make_sink
    signal.signal(signal.SIGTERM, lambda *_: stop_evt.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Each worker owns its state and HEC spool: two senders must never drain one spool.
    state_dir = os.path.join(cfg.collector.state_dir, "worker-%d" % index)
    cfg.collector = config_mod.Section("collector", dict(vars(cfg.collector), state_dir=state_dir))
    spool = os.path.join(cfg.output.spool_dir, "worker-%d" % index) if cfg.output.spool_dir else ""
    cfg.output = config_mod.Section("output", dict(vars(cfg.output), spool_dir=spool))
    sink = LockedSink(make_sink(cfg), lock)
    col = Collector(cfg, sink, worker=index)
    col.sockets = socks
    col.ready.set()
    stop = threading.Event()

    def watch():
        while not stop_evt.is_set():
            stop_evt.wait(0.5)
        stop.set()
    threading.Thread(target=watch, daemon=True).start()
    try:
        col.run(stop)
    finally:
        sink.close()


def run_workers(cfg, stop, ready=None):
    """Fork ``cfg.collector.workers`` collectors; return when ``stop`` is set and all have flushed."""
    n = cfg.collector.workers
    ctx = multiprocessing.get_context("fork")
    groups = open_groups(cfg, n)
    lock, stop_evt = ctx.Lock(), ctx.Event()
    procs = []
    for i in range(n):
        mine = [g[i] for g in groups]
        p = ctx.Process(target=_worker_main, args=(cfg, i, mine, lock, stop_evt), name="boundaryflow-worker-%d" % i)
        p.start()
        procs.append(p)
    for g in groups:                   # each socket now lives only in its worker
        for s in g:
            s.close()
    if ready is not None:
        ready.set()
    log.info("%d workers started", n)
    while not stop.is_set():
        stop.wait(0.5)
        for i, p in enumerate(procs):
            if not p.is_alive() and not stop.is_set():
                log.error("worker %d exited with %s; stopping the others", i, p.exitcode)
                stop.set()
    stop_evt.set()
    deadline = time.time() + 30
    for p in procs:
        p.join(max(0.1, deadline - time.time()))
        if p.is_alive():
            p.terminate()
    return 0 if all(p.exitcode == 0 for p in procs) else 1
