"""The live receiver: UDP listeners feeding one Pipeline (one worker).

Protocol is detected per datagram, so one port can take NetFlow, IPFIX and sFlow alike. Datagrams
the kernel drops because we fell behind are read from /proc/net/udp{,6} (the ``drops`` column of
our own sockets) and reported as ``socket_drops`` in health: load shedding is visible, never silent.
"""
from __future__ import annotations

import logging
import os
import selectors
import socket
import threading
import time

log = logging.getLogger("boundaryflow")

_DRAIN = 256            # datagrams read from one socket before looking at the others/ticking


def open_udp_socket(host, port, rcvbuf, reuseport=False):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if family == socket.AF_INET6:
        try:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)   # [::] also takes IPv4
        except OSError:
            pass
    # Bursts from many exporters land in the kernel buffer while we decode; ask for a large one
    # (SO_RCVBUFFORCE passes net.core.rmem_max when we are privileged).
    for opt in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
        if opt is None:
            continue
        try:
            s.setsockopt(socket.SOL_SOCKET, opt, rcvbuf)
            break
        except OSError:
            continue
    s.bind((host, port))
    s.setblocking(False)
    return s


def free_udp_port(host="127.0.0.1"):
    """A UDP port nobody is bound to right now (for the demo, tests and benchmarks on loopback)."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def socket_drops(socks):
    """Kernel receive-queue drops of these sockets (Linux /proc), 0 where unknown."""
    inodes = set()
    for s in socks:
        try:
            inodes.add(str(os.fstat(s.fileno()).st_ino))
        except OSError:
            pass
    total = 0
    for name in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(name) as fh:
                next(fh)
                for line in fh:
                    cols = line.split()
                    if len(cols) >= 13 and cols[9] in inodes:
                        total += int(cols[12])
        except (OSError, StopIteration, ValueError):
            continue
    return total


def _exporter_address(addr):
    ip = addr[0]
    return ip[7:] if ip.startswith("::ffff:") else ip


class Collector(object):
    """``Collector(cfg, sink).run(stop)``: listen, decode, process until ``stop`` is set."""

    def __init__(self, cfg, sink, pipeline=None, reuseport=False, worker=0):
        from .pipeline import Pipeline   # pipeline re-exports Collector; import here avoids a cycle
        self.cfg = cfg
        self.sink = sink
        self.reuseport = reuseport
        self.pipeline = pipeline or Pipeline(cfg, sink, worker=worker, live=True)
        self.ready = threading.Event()    # set once every socket is bound
        self.sockets = []

    def bind(self):
        c = self.cfg.collector
        for host, port in c.listen:
            try:
                self.sockets.append(open_udp_socket(host, port, c.receive_buffer, self.reuseport))
            except OSError as e:
                for s in self.sockets:
                    s.close()
                self.sockets = []
                raise OSError(e.errno, "[collector] listen: cannot bind UDP %s:%d: %s" % (host, port, e.strerror))
            log.info("listening on udp %s:%d", host, port)
        self.ready.set()

    def run(self, stop=None):
        stop = stop or threading.Event()
        if not self.sockets:
            self.bind()
        sel = selectors.DefaultSelector()
        for s in self.sockets:
            sel.register(s, selectors.EVENT_READ)
        pipe = self.pipeline
        handle = pipe.handle_datagram
        next_tick = time.time() + 1.0
        base_drops = socket_drops(self.sockets)
        try:
            while not stop.is_set():
                for key, _ev in sel.select(timeout=0.25):
                    recv = key.fileobj.recvfrom
                    for _ in range(_DRAIN):
                        try:
                            data, addr = recv(65535)
                        except (BlockingIOError, InterruptedError):
                            break
                        except OSError as e:      # e.g. ICMP errors surfaced on the socket
                            log.debug("recvfrom: %s", e)
                            break
                        handle(data, _exporter_address(addr), time.time())
                now = time.time()
                if now >= next_tick:
                    pipe.socket_drops = socket_drops(self.sockets) - base_drops
                    pipe.tick(now)
                    next_tick = now + 1.0
            # Drain what is already queued so a clean stop loses nothing that arrived.
            for s in self.sockets:
                while True:
                    try:
                        data, addr = s.recvfrom(65535)
                    except (BlockingIOError, InterruptedError, OSError):
                        break
                    handle(data, _exporter_address(addr), time.time())
            pipe.socket_drops = socket_drops(self.sockets) - base_drops
        finally:
            sel.close()
            for s in self.sockets:
                s.close()
            self.sockets = []
            pipe.close(final=False)
        return pipe
