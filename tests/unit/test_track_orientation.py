"""Initiator orientation (DESIGN.md §3) through the Tracker contract."""
from boundaryflow import config
from boundaryflow.model import Flow
from boundaryflow.track import Tracker
from boundaryflow.track.service_ports import EPHEMERAL, LISTED, REGISTERED, WELL_KNOWN, ServicePorts

SYN, ACK, FIN, PSH = 0x02, 0x10, 0x01, 0x08


def rec(src, sport, dest, dport, proto=6, out=(0, 0), inb=(0, 0), flags=0, start=100.0, end=110.0,
        exporter="192.0.2.1", **kw):
    f = Flow()
    f.src_ip, f.src_port, f.dest_ip, f.dest_port, f.protocol_number = src, sport, dest, dport, proto
    f.bytes_out, f.packets_out = out
    f.bytes_in, f.packets_in = inb
    f.tcp_flags, f.start, f.end, f.exporter = flags, start, end, exporter
    for k, v in kw.items():
        setattr(f, k, v)
    return f


def tracker(**kw):
    return Tracker(config.default(**kw))


def test_service_port_table_ranks():
    sp = ServicePorts()
    assert sp.rank(6, 443) == WELL_KNOWN and sp.rank(6, 2049) == LISTED and sp.rank(17, 2049) == LISTED
    assert sp.rank(17, 4791) == LISTED and sp.rank(6, 4791) == REGISTERED
    assert sp.rank(6, 9001) == REGISTERED and sp.rank(6, 32767) == REGISTERED and sp.rank(6, 32768) == EPHEMERAL
    assert sp.rank(6, 7000) == LISTED                      # inside the ceph-osd range 6800-7300
    assert sp.rank(6, 51234) == EPHEMERAL and sp.rank(6, 0) == EPHEMERAL
    assert sp.rank(132, 6443) == LISTED                    # SCTP shares the TCP table


def test_server_reply_record_becomes_client_to_server_with_bytes_in():
    t = tracker()
    f = rec("192.0.2.80", 443, "10.0.0.5", 51000, out=(9000, 7), flags=ACK | FIN)
    assert t.process(f) is True
    assert (f.src_ip, f.src_port, f.dest_ip, f.dest_port) == ("10.0.0.5", 51000, "192.0.2.80", 443)
    assert (f.bytes_in, f.packets_in, f.bytes_out, f.packets_out) == (9000, 7, 0, 0)
    assert f.oriented is True
    assert t.counters["orient_service_port"] == 1 and t.counters["swapped"] == 1


def test_reply_first_to_an_unlisted_registered_port_is_oriented_to_the_client():
    # Regression: 10.40.0.20:40000 -> 198.51.100.7:9001 with the server's reply exported first
    # (no SYN in it) used to tie on port rank and fall to first-seen, turning the upload inbound.
    t = tracker()
    reply = rec("198.51.100.7", 9001, "10.40.0.20", 40000, out=(900, 12), flags=ACK | PSH)
    t.process(reply)
    assert (reply.src_ip, reply.dest_port, reply.bytes_in) == ("10.40.0.20", 9001, 900)
    upload = rec("10.40.0.20", 40000, "198.51.100.7", 9001, out=(5 << 30, 90000), flags=ACK | PSH)
    t.process(upload)
    assert (upload.src_ip, upload.dest_port, upload.bytes_out) == ("10.40.0.20", 9001, 5 << 30)


def test_syn_without_ack_beats_port_heuristic():
    # a client that happens to use a well-known source port, talking to an ephemeral-looking port
    t = tracker()
    f = rec("10.0.0.5", 443, "192.0.2.9", 40000, out=(60, 1), flags=SYN)
    t.process(f)
    assert f.src_ip == "10.0.0.5" and f.src_port == 443
    # its reply record (SYN+ACK) follows the connection already known, not the port rule
    r = rec("192.0.2.9", 40000, "10.0.0.5", 443, out=(60, 1), flags=SYN | ACK)
    t.process(r)
    assert (r.src_ip, r.src_port, r.bytes_in, r.bytes_out) == ("10.0.0.5", 443, 60, 0)
    c = t.counters
    assert c["orient_tcp_syn"] == 1 and c["orient_known_connection"] == 1


def test_decoder_knowledge_is_trusted():
    t = tracker()
    f = rec("10.0.0.5", 22, "192.0.2.9", 40000, out=(5, 1), inb=(7, 2), initiator_known=True)
    t.process(f)
    assert f.src_port == 22 and f.bytes_out == 5 and t.counters["orient_decoder"] == 1


def test_registered_port_beats_privileged_client_port():
    # NFS clients often bind source ports below 1024; 2049 is listed, so it is the service side
    t = tracker()
    f = rec("10.9.0.1", 2049, "10.1.0.7", 801, proto=6, out=(1 << 20, 800), flags=ACK)
    t.process(f)
    assert (f.src_ip, f.dest_port, f.bytes_in) == ("10.1.0.7", 2049, 1 << 20)


def test_first_seen_decides_when_ports_say_nothing_and_reverse_follows():
    t = tracker()
    a = rec("10.0.0.1", 40001, "10.0.0.2", 40002, proto=17, out=(100, 1))
    b = rec("10.0.0.2", 40002, "10.0.0.1", 40001, proto=17, out=(300, 3), start=101, end=111)
    t.process(a)
    t.process(b)
    assert a.src_ip == b.src_ip == "10.0.0.1"
    assert (b.bytes_in, b.bytes_out) == (300, 0)
    assert t.counters["orient_first_seen"] == 1 and t.counters["orient_known_connection"] == 1


def test_rocev2_on_udp_4791_orients_to_the_listener():
    t = tracker()
    f = rec("10.2.0.9", 4791, "192.168.5.5", 50123, proto=17, out=(1 << 30, 1 << 20))
    t.process(f)
    assert f.dest_port == 4791 and f.bytes_in == 1 << 30


def test_orientation_memory_is_bounded_and_counted():
    t = tracker(collector_max_connections="1000")
    for i in range(2500):
        t.process(rec("10.0.%d.%d" % (i // 250, i % 250), 40000, "10.9.9.9", 40001, proto=17,
                      out=(1, 1), start=100.0 + i * 0.001, end=100.0 + i * 0.001))
        assert t.counters["connections"] <= 1000
    c = t.counters
    assert c["connections"] + c["connections_evicted"] == 2500 and c["connections_evicted"] >= 1500


def test_recently_used_connections_survive_the_cap():
    t = tracker(collector_max_connections="1000")
    t.process(rec("10.0.0.1", 40001, "10.0.0.2", 40002, proto=17, out=(1, 1)))
    for i in range(3000):
        t.process(rec("10.1.%d.%d" % (i // 250, i % 250), 40000, "10.9.9.9", 40001, proto=17, out=(1, 1)))
        if i % 300 == 0:       # the first connection keeps sending in both directions
            t.process(rec("10.0.0.2", 40002, "10.0.0.1", 40001, proto=17, out=(1, 1)))
    reply = rec("10.0.0.2", 40002, "10.0.0.1", 40001, proto=17, out=(5, 1))
    t.process(reply)
    assert reply.src_ip == "10.0.0.1" and reply.bytes_in == 5


def test_idle_connections_expire_in_event_time():
    t = tracker(collector_active_timeout="60s", collector_inactive_timeout="5s", collector_max_lateness="10s")
    t.process(rec("10.0.0.1", 40001, "10.0.0.2", 40002, proto=17, out=(1, 1), end=100.0))
    assert t.counters["connections"] == 1
    t.expire(100.0 + 75)          # idle for one memory period: still remembered (up to two)
    assert t.counters["connections"] == 1
    t.expire(100.0 + 150)
    c = t.counters
    assert c["connections"] == 0 and c["connections_expired"] == 1 and c["connections_evicted"] == 0


def test_strong_evidence_corrects_a_first_seen_guess():
    t = tracker()
    # mid-connection record seen first (no SYN, no service port): guessed from first sight
    mid = rec("10.0.0.2", 40002, "10.0.0.1", 40001, out=(500, 5), flags=ACK)
    t.process(mid)
    assert mid.src_ip == "10.0.0.2"
    # a SYN-only record (a new connection on the same 5-tuple) says 10.0.0.1 opens it
    syn = rec("10.0.0.1", 40001, "10.0.0.2", 40002, out=(60, 1), flags=SYN, start=200, end=200)
    t.process(syn)
    later = rec("10.0.0.2", 40002, "10.0.0.1", 40001, out=(700, 7), flags=ACK, start=201, end=260)
    assert t.process(later)
    assert (later.src_ip, later.bytes_in, later.bytes_out) == ("10.0.0.1", 700, 0)


def test_icmp_echo_reply_is_oriented_to_the_pinger():
    t = tracker()
    reply = rec("192.0.2.9", 0, "10.0.0.5", 0, proto=1, out=(84, 1), icmp_type=0, icmp_code=0)
    t.process(reply)
    assert (reply.src_ip, reply.bytes_in) == ("10.0.0.5", 84)
    req6 = rec("2001:db8::1", 0, "2001:db8::2", 0, proto=58, out=(104, 1), icmp_type=128, icmp_code=0)
    t.process(req6)
    assert req6.src_ip == "2001:db8::1" and req6.bytes_out == 104
    unreachable = rec("192.0.2.1", 0, "10.0.0.7", 0, proto=1, out=(56, 1), icmp_type=3, icmp_code=1)
    t.process(unreachable)                 # an error says nothing: first seen
    assert unreachable.src_ip == "192.0.2.1"
    c = t.counters
    assert c["orient_icmp_type"] == 2 and c["orient_first_seen"] == 1


def test_records_without_addresses_or_ports_do_not_break_tracking():
    t = tracker()
    f = rec(None, None, "10.0.0.1", 0, proto=0, out=(1, 1))
    assert t.process(f) is True and f.oriented
