"""An IPFIX (RFC 7011) exporting process: encoder plus UDP sender.

    IpfixExporter(("127.0.0.1", 4739), observation_domain=1).send(records)

* Two templates, IPv4 (id 256) and IPv6 (id 257): flowStart/EndMilliseconds, addresses, ports,
  protocol, tcpControlBits, octet/packetDeltaCount (8 bytes), ingress/egressInterface,
  flowEndReason.
* Templates go out in the first message and again every ``template_refresh`` messages or
  ``template_timeout`` seconds of export time, whichever comes first, as UDP exporters must
  (RFC 7011 §8.4): a collector that starts late, or expires templates, learns them again soon.
* The sequence number of a message = data records sent before it in this observation domain
  (mod 2^32), so a collector can count lost records.
* Messages are filled up to the path MTU (no IP fragmentation) but never hold a record longer than
  ``max_delay`` seconds of export time (a quiet exporter sends small messages rather than old
  records); the export time is the event time of the newest record in the message, so a replayed
  day keeps its own clock.
* Optional packet sampling (``sampling=N``, systematic count-based 1-in-N, RFC 5477): counters are
  those of the sampled packets, flows with no sampled packet are not exported, and an options
  template (id 258) announces samplingPacketInterval/Space with the templates, as routers do.
"""
from __future__ import annotations

import ipaddress
import random
import socket
import struct
import time

IPFIX_VERSION = 10
TEMPLATE_SET_ID = 2
OPTIONS_TEMPLATE_SET_ID = 3
TEMPLATE_V4, TEMPLATE_V6, TEMPLATE_SAMPLING = 256, 257, 258

# (information element id, length) - IANA IPFIX registry
_COMMON_HEAD = ((152, 8), (153, 8))                       # flowStart/EndMilliseconds
_V4_ADDRS = ((8, 4), (12, 4))                             # source/destinationIPv4Address
_V6_ADDRS = ((27, 16), (28, 16))                          # source/destinationIPv6Address
_COMMON_TAIL = ((7, 2), (11, 2), (4, 1), (6, 2),          # ports, protocolIdentifier, tcpControlBits
                (1, 8), (2, 8), (10, 4), (14, 4), (136, 1))  # octet/packetDeltaCount, ifaces, flowEndReason
TEMPLATE_FIELDS = {
    TEMPLATE_V4: _COMMON_HEAD + _V4_ADDRS + _COMMON_TAIL,
    TEMPLATE_V6: _COMMON_HEAD + _V6_ADDRS + _COMMON_TAIL,
}
_RECORD = {TEMPLATE_V4: struct.Struct("!QQ4s4sHHBHQQIIB"), TEMPLATE_V6: struct.Struct("!QQ16s16sHHBHQQIIB")}
_MSG_HEADER = struct.Struct("!HHIII")
_SET_HEADER = struct.Struct("!HH")


def template_set():
    body = b""
    for tid, fields in sorted(TEMPLATE_FIELDS.items()):
        body += struct.pack("!HH", tid, len(fields))
        body += b"".join(struct.pack("!HH", ie, ln) for ie, ln in fields)
    return _SET_HEADER.pack(TEMPLATE_SET_ID, _SET_HEADER.size + len(body)) + body


# options template: scope observationDomainId, then selectorAlgorithm (1 = systematic count-based),
# samplingPacketInterval, samplingPacketSpace
_SAMPLING_FIELDS = ((149, 4), (304, 2), (305, 4), (306, 4))
_SAMPLING_RECORD = struct.Struct("!IHII")


def sampling_sets(domain, rate):
    """Options template set + options data set announcing 1-in-``rate`` sampling (RFC 5477)."""
    body = struct.pack("!HHH", TEMPLATE_SAMPLING, len(_SAMPLING_FIELDS), 1)
    body += b"".join(struct.pack("!HH", ie, ln) for ie, ln in _SAMPLING_FIELDS)
    tmpl = _SET_HEADER.pack(OPTIONS_TEMPLATE_SET_ID, _SET_HEADER.size + len(body)) + body
    rec = _SAMPLING_RECORD.pack(domain, 1, 1, rate - 1)
    return tmpl + _SET_HEADER.pack(TEMPLATE_SAMPLING, _SET_HEADER.size + len(rec)) + rec


_TEMPLATE_SET = template_set()
_PACKED_ADDR = {}


def _addr(ip):
    b = _PACKED_ADDR.get(ip)
    if b is None:
        if len(_PACKED_ADDR) > 100000:
            _PACKED_ADDR.clear()
        b = _PACKED_ADDR[ip] = ipaddress.ip_address(ip).packed
    return b


def encode_record(flow, octets=None, packets=None):
    """(template id, bytes) for one model.Flow (its src->dest direction, bytes_out/packets_out)."""
    tid = TEMPLATE_V6 if flow.ip_version == 6 else TEMPLATE_V4
    reason = (flow.vendor or {}).get("flow_end_reason", 0)
    return tid, _RECORD[tid].pack(
        int(round(flow.start * 1000)), int(round(flow.end * 1000)), _addr(flow.src_ip), _addr(flow.dest_ip),
        flow.src_port, flow.dest_port, flow.protocol_number, flow.tcp_flags & 0xFFFF,
        flow.bytes_out if octets is None else octets, flow.packets_out if packets is None else packets,
        flow.input_if or 0, flow.output_if or 0, reason)


class IpfixEncoder(object):
    """Turns time-ordered records into IPFIX messages for one observation domain."""

    def __init__(self, observation_domain=1, mtu=1500, template_refresh=20, ip_overhead=28,
                 template_timeout=600.0, sampling=1, seed=0, max_delay=60.0):
        self.domain = observation_domain
        self.max_delay = max_delay
        self.sampling = max(1, int(sampling))
        self._rng = random.Random(seed)
        self._templates = _TEMPLATE_SET + (sampling_sets(self.domain, self.sampling) if self.sampling > 1 else b"")
        self.max_len = mtu - ip_overhead            # IPv4 + UDP headers; 48 for IPv6 transport
        self.template_refresh = max(1, template_refresh)
        self.template_timeout = template_timeout
        self._since_template = 0                     # messages since templates were last sent
        self._template_time = None                   # export time they were last sent
        self.sequence = 0                            # data records sent so far
        self.messages = 0
        self.records = 0
        self.unsampled = 0                           # flows no sampled packet of was seen

    def _message(self, sets, export_time, n_records):
        body = b"".join(sets)
        head = _MSG_HEADER.pack(IPFIX_VERSION, _MSG_HEADER.size + len(body), int(export_time) & 0xFFFFFFFF,
                                self.sequence & 0xFFFFFFFF, self.domain)
        self.sequence += n_records
        self.records += n_records
        self.messages += 1
        return head + body

    def _template_due(self, export_time):
        return (self._template_time is None or self._since_template >= self.template_refresh
                or export_time - self._template_time >= self.template_timeout)

    def _sample(self, flow):
        """(octets, packets) the sampler saw of this flow, or None when it saw no packet."""
        n = self.sampling
        if n == 1:
            return flow.bytes_out, flow.packets_out
        expected = flow.packets_out / float(n)
        k = int(expected) + (1 if self._rng.random() < expected - int(expected) else 0)
        if k == 0:
            return None
        return max(1, flow.bytes_out * k // flow.packets_out), k

    def encode(self, records):
        """Yield IPFIX messages (bytes) carrying ``records`` in order."""
        pending = []          # [(tid, bytes)]
        size = _MSG_HEADER.size + len(self._templates)    # room for templates: known only at the end
        newest = oldest = 0.0
        for flow in records:
            seen = self._sample(flow)
            if seen is None:
                self.unsampled += 1
                continue
            tid, rec = encode_record(flow, *seen)
            # a new set header is needed whenever the template changes
            extra = len(rec) + (_SET_HEADER.size if not pending or pending[-1][0] != tid else 0)
            if pending and (size + extra > self.max_len or flow.end - oldest > self.max_delay):
                yield self._build(pending, newest)
                pending, newest = [], 0.0
                size = _MSG_HEADER.size + len(self._templates)
                extra = len(rec) + _SET_HEADER.size
            if not pending:
                oldest = flow.end
            pending.append((tid, rec))
            size += extra
            newest = max(newest, flow.end)
        if pending:
            yield self._build(pending, newest)

    def _build(self, pending, newest):
        with_template = self._template_due(int(newest))
        if with_template:
            self._since_template, self._template_time = 0, int(newest)
        self._since_template += 1
        sets = [self._templates] if with_template else []
        n_records = len(pending) + (1 if with_template and self.sampling > 1 else 0)   # + options record
        i = 0
        while i < len(pending):
            tid = pending[i][0]
            j = i
            while j < len(pending) and pending[j][0] == tid:
                j += 1
            body = b"".join(r for _t, r in pending[i:j])
            sets.append(_SET_HEADER.pack(tid, _SET_HEADER.size + len(body)) + body)
            i = j
        return self._message(sets, newest, n_records)


class IpfixExporter(object):
    """Send records as IPFIX over UDP to a collector.

    ``rate`` (messages per second) paces the sender so a collector's socket buffer is not overrun;
    ``progress(datagrams_sent)`` is called every ``progress_every`` datagrams and at the end."""

    def __init__(self, collector, observation_domain=1, mtu=1500, template_refresh=20, rate=None,
                 source=None, template_timeout=600.0, sampling=1, seed=0, max_delay=60.0):
        family = socket.AF_INET6 if ":" in collector[0] else socket.AF_INET
        self.collector = collector
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        if source:
            self.sock.bind(source)
        self.encoder = IpfixEncoder(observation_domain, mtu, template_refresh,
                                    ip_overhead=48 if family == socket.AF_INET6 else 28,
                                    template_timeout=template_timeout, sampling=sampling, seed=seed,
                                    max_delay=max_delay)
        self.rate = rate
        self.bytes_sent = 0

    def send(self, records, progress=None, progress_every=200):
        """Encode and send records; returns the number of datagrams sent."""
        return self.send_messages(self.encoder.encode(records), progress, progress_every)

    def send_messages(self, messages, progress=None, progress_every=200, throttle=None):
        """Send already encoded messages (from this exporter's ``encoder``); see :func:`send_stream`."""
        return send_stream(((self, m) for m in messages), self.rate, progress, progress_every, throttle)

    def sendto(self, msg):
        self.sock.sendto(msg, self.collector)
        self.bytes_sent += len(msg)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def send_stream(items, rate=None, progress=None, progress_every=200, throttle=None):
    """Send ``(exporter, message)`` items in order - one or several exporters interleaved.

    ``rate`` = datagrams per second in total; ``throttle(sent)``, when given, is called before each
    datagram and may wait (e.g. for a slow collector); ``progress(sent)`` every ``progress_every``
    datagrams and at the end. Returns the number of datagrams sent."""
    t0 = time.monotonic()
    sent = 0
    for exporter, msg in items:
        if throttle:
            throttle(sent)
        exporter.sendto(msg)
        sent += 1
        if rate:
            ahead = sent / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
        if progress and sent % progress_every == 0:
            progress(sent)
    if progress:
        progress(sent)
    return sent
