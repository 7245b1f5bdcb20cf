"""The scenario's IPFIX exporter, read back with a minimal RFC 7011 parser written here."""
import ipaddress
import socket
import struct

import pytest

from boundaryflow.model import Flow
from boundaryflow.scenario.ipfix_export import IpfixEncoder, IpfixExporter

# IE id -> name for the fields the exporter promises (IANA registry)
IE_NAMES = {152: "start_ms", 153: "end_ms", 8: "src4", 12: "dst4", 27: "src6", 28: "dst6", 7: "sport",
            11: "dport", 4: "proto", 6: "flags", 1: "octets", 2: "packets", 10: "in_if", 14: "out_if",
            136: "end_reason", 149: "domain", 304: "selector", 305: "interval", 306: "space"}


def parse(messages):
    """[(header dict, [record dicts])] - templates learnt from the stream itself."""
    templates, out = {}, []
    for m in messages:
        version, length, export, seq, domain = struct.unpack("!HHIII", m[:16])
        assert version == 10 and length == len(m)
        head = {"export": export, "seq": seq, "domain": domain, "templates": False}
        recs, off = [], 16
        while off < length:
            sid, slen = struct.unpack("!HH", m[off:off + 4])
            body = m[off + 4:off + slen]
            if sid in (2, 3):          # template set, options template set (+ scope field count)
                head["templates"] = True
                p = 0
                while p + 4 <= len(body):
                    tid, count = struct.unpack("!HH", body[p:p + 4])
                    p += 6 if sid == 3 else 4
                    fields = []
                    for _ in range(count):
                        ie, ln = struct.unpack("!HH", body[p:p + 4])
                        assert not ie & 0x8000
                        fields.append((ie, ln))
                        p += 4
                    templates[tid] = fields
            else:
                fields = templates[sid]
                size = sum(ln for _ie, ln in fields)
                p = 0
                while p + size <= len(body):
                    rec = {}
                    for ie, ln in fields:
                        raw = body[p:p + ln]
                        p += ln
                        name = IE_NAMES[ie]
                        addr = name in ("src4", "dst4", "src6", "dst6")
                        rec[name] = str(ipaddress.ip_address(raw)) if addr else int.from_bytes(raw, "big")
                    recs.append(rec)
            off += slen
        out.append((head, recs))
    return out


def flow(i, v6=False):
    f = Flow()
    f.src_ip = "2001:218::%x" % (i + 1) if v6 else "10.40.0.%d" % (i % 250 + 1)
    f.dest_ip = "fd00:42::10" if v6 else "198.51.100.%d" % (i % 200 + 1)
    f.ip_version = 6 if v6 else 4
    f.src_port, f.dest_port, f.protocol_number = 40000 + i, 443, 6
    f.start, f.end = 1793577600.0 + i, 1793577600.0 + i + 1.25
    f.bytes_out, f.packets_out = (5 << 32) + i, 3_000_000 + i      # > 32 bits: needs the 8-byte counters
    f.tcp_flags, f.input_if, f.output_if = 0x1B, 11, 31
    f.vendor = {"flow_end_reason": 3}
    return f


def test_round_trip_v4_and_v6_with_64_bit_counters():
    flows = [flow(i, v6=(i % 3 == 0)) for i in range(300)]
    enc = IpfixEncoder(observation_domain=7)
    msgs = list(enc.encode(flows))
    got = [r for _h, recs in parse(msgs) for r in recs]
    assert len(got) == len(flows)
    for f, r in zip(flows, got):
        assert r.get("src4", r.get("src6")) == f.src_ip and r.get("dst4", r.get("dst6")) == f.dest_ip
        assert (r["sport"], r["dport"], r["proto"], r["flags"]) == (f.src_port, f.dest_port, 6, 0x1B)
        assert (r["octets"], r["packets"]) == (f.bytes_out, f.packets_out)
        assert (r["start_ms"], r["end_ms"]) == (round(f.start * 1000), round(f.end * 1000))
        assert (r["in_if"], r["out_if"], r["end_reason"]) == (11, 31, 3)


def test_messages_fit_the_mtu_and_number_records():
    flows = [flow(i, v6=(i % 5 == 0)) for i in range(2000)]
    enc = IpfixEncoder(observation_domain=3, mtu=1500, template_refresh=10, max_delay=3600)
    msgs = list(enc.encode(flows))
    assert all(len(m) <= 1472 for m in msgs)
    assert max(len(m) for m in msgs) > 1300          # filled, not one record per datagram
    parsed = parse(msgs)
    seen = 0
    for i, (head, recs) in enumerate(parsed):
        assert head["domain"] == 3
        assert head["seq"] == seen                  # RFC 7011: data records sent before this message
        assert head["templates"] == (i % 10 == 0)   # refreshed every 10 messages
        assert head["export"] == int(max(r["end_ms"] for r in recs) / 1000)
        seen += len(recs)
    assert seen == len(flows) == enc.sequence
    # the counter continues across calls
    more = list(enc.encode(flows[:10]))
    assert parse([msgs[0]] + more)[1][0]["seq"] == len(flows)


def test_exporter_sends_the_encoded_messages_over_udp():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(5)
    flows = [flow(i) for i in range(120)]
    with IpfixExporter(rx.getsockname(), observation_domain=1) as exp:
        sent = exp.send(flows)
    got = [rx.recv(65535) for _ in range(sent)]
    rx.close()
    assert [r["octets"] for _h, recs in parse(got) for r in recs] == [f.bytes_out for f in flows]


def test_templates_are_refreshed_by_export_time_too():
    """Sparse night traffic: a collector's template TTL must not run out between refreshes."""
    flows = [flow(i) for i in range(400)]
    for i, f in enumerate(flows):
        f.start = f.end = 1793577600.0 + i * 30        # one record every 30 s
    msgs = list(IpfixEncoder(template_refresh=1000, template_timeout=600).encode(flows))
    parsed = parse(msgs)
    times = [h["export"] for h, _r in parsed if h["templates"]]
    assert parsed[0][0]["templates"] and len(times) > 3
    assert all(b - a <= 600 + 30 * 25 for a, b in zip(times, times[1:]))


def test_sampling_exports_sampled_counters_and_announces_the_rate():
    flows = [flow(i) for i in range(200)]
    for i, f in enumerate(flows):
        f.packets_out = 3 if i % 2 else 50_000          # half tiny flows, half bulk
        f.bytes_out = f.packets_out * 1400
    enc = IpfixEncoder(observation_domain=4, sampling=100, seed=1)
    parsed = parse(list(enc.encode(flows)))
    options = [r for _h, recs in parsed for r in recs if "interval" in r]
    data = [r for _h, recs in parsed for r in recs if "octets" in r]
    assert options and all((o["domain"], o["selector"], o["interval"], o["space"]) == (4, 1, 1, 99) for o in options)
    # bulk flows: ~500 sampled packets each, scaled back they match the truth within 1%
    bulk = [r for r in data if r["packets"] > 100]
    assert len(bulk) == 100
    assert abs(sum(r["packets"] for r in bulk) * 100 - 100 * 50_000) < 0.01 * 100 * 50_000
    # tiny flows are mostly not seen at all (3 packets at 1:100)
    assert enc.unsampled > 80 and len(data) == 200 - enc.unsampled
    # sequence numbers count the options records too (they are data records)
    seen = 0
    for head, recs in parsed:
        assert head["seq"] == seen
        seen += len(recs)


def test_a_quiet_exporter_does_not_hold_records():
    """Records one minute apart leave in their own messages, not batched for half an hour."""
    flows = [flow(i) for i in range(50)]
    for i, f in enumerate(flows):
        f.start, f.end = 1793577600.0 + i * 60, 1793577600.0 + i * 60 + 1
    parsed = parse(list(IpfixEncoder(max_delay=5).encode(flows)))
    assert [len(recs) for _h, recs in parsed] == [1] * 50
    assert all(h["export"] == int(recs[0]["end_ms"] / 1000) for h, recs in parsed)


def test_exporter_over_ipv6_transport_leaves_room_for_the_bigger_header():
    rx = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        rx.bind(("::1", 0))
    except OSError:
        rx.close()
        pytest.skip("no IPv6 loopback here")
    rx.settimeout(5)
    flows = [flow(i, v6=True) for i in range(100)]
    with IpfixExporter(rx.getsockname()[:2], observation_domain=2) as exp:
        sent = exp.send(flows)
    got = [rx.recv(65535) for _ in range(sent)]
    rx.close()
    assert all(len(m) <= 1500 - 48 for m in got)
    assert [r["src6"] for _h, recs in parse(got) for r in recs] == [f.src_ip for f in flows]
