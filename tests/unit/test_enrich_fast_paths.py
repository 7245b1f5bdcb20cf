"""The enricher's fast paths give what the general code gives: address parsing (inet_pton for
dotted-quad IPv4, ipaddress for everything else) and the inlined Community ID."""
from __future__ import annotations

import ipaddress
import random
import socket

import pytest

from boundaryflow import config
from boundaryflow.enrich import Enricher
from boundaryflow.enrich.community_id import CommunityId, packed_address
from boundaryflow.lookups import parse_address
from boundaryflow.model import Flow

SPELLINGS = [
    "10.1.2.3", "0.0.0.0", "255.255.255.255", "192.168.001.1", "010.1.2.3", "1.2.3", "1.2.3.4.5",
    "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "0x1.2.3.4", "1.2.3.4\x00", "", "bogus",
    "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "::ffff:1.2.3.4", "::1", "fe80::1%eth0", "2001:db8::1/64",
    "1.2.3.4:80", "\u0661.2.3.4", None, 167772161, b"10.1.2.3",
]


def _via_ipaddress(ip):
    try:
        addr = ipaddress.ip_address(ip)
    except (ValueError, TypeError):
        return None
    return addr.version, int(addr), addr.packed, str(addr)


@pytest.mark.parametrize("ip", SPELLINGS, ids=repr)
def test_parse_address_agrees_with_ipaddress(ip):
    # (ints and bytes: flows never carry them; they go to ipaddress unchanged)
    assert parse_address(ip) == _via_ipaddress(ip)


def test_parse_address_random_v4_and_v6():
    rng = random.Random(5)
    for _ in range(2000):
        if rng.random() < 0.7:
            ip = socket.inet_ntoa(bytes(rng.getrandbits(8) for _ in range(4)))
        else:
            ip = socket.inet_ntop(socket.AF_INET6, bytes(rng.getrandbits(8) for _ in range(16)))
        assert parse_address(ip) == _via_ipaddress(ip), ip


def _enriched(e, src, dest, proto, sport, dport, **kw):
    f = Flow()
    f.src_ip, f.dest_ip, f.protocol_number, f.src_port, f.dest_port = src, dest, proto, sport, dport
    for k, v in kw.items():
        setattr(f, k, v)
    e.enrich(f)
    return f


@pytest.fixture
def bare(tmp_path):
    return Enricher(config.default(base_dir=str(tmp_path), enrichment_lookups_dir=str(tmp_path)), background=False)


def test_inlined_community_id_equals_compute(bare):
    cid = CommunityId().compute
    rng = random.Random(11)
    for _ in range(1500):
        v6 = rng.random() < 0.3
        fam = socket.AF_INET6 if v6 else socket.AF_INET
        a, b = (socket.inet_ntop(fam, bytes(rng.getrandbits(8) for _ in range(16 if v6 else 4))) for _ in range(2))
        if rng.random() < 0.1:
            b = a                                  # same host: the ports decide the order
        proto = rng.choice((6, 17, 132, 58 if v6 else 1, 47, 50))
        sport, dport = rng.randint(0, 65535), rng.choice((443, 53, rng.randint(0, 65535)))
        f = _enriched(bare, a, b, proto, sport, dport)
        want = cid(packed_address(a), packed_address(b), proto, sport, dport, f.icmp_type, f.icmp_code)
        assert f.community_id == want, (a, b, proto, sport, dport)


def test_community_id_of_a_mixed_family_record_is_unchanged(bare):
    # A broken record (IPv4 source, IPv6 destination) hashes as compute() always did: packed by
    # the source's family. Nothing sensible, but enrichment must not start to differ or raise.
    for src, dest in (("10.1.2.3", "2001:db8::1"), ("2001:db8::1", "10.1.2.3")):
        for proto in (6, 17, 1, 47):
            f = _enriched(bare, src, dest, proto, 1234, 80)
            assert f.community_id == CommunityId().compute(packed_address(src), packed_address(dest), proto, 1234, 80)


def test_unparsable_addresses_get_nothing_but_what_they_did(bare):
    f = _enriched(bare, "010.1.2.3", "8.8.8.8", 6, 1234, 443)
    assert f.src_internal is None and f.dest_internal is False and f.community_id is None
    g = _enriched(bare, None, "8.8.8.8", 6, 1234, 443)
    assert g.src_internal is None and g.community_id is None


def test_ipv6_spellings_share_lookups_and_keep_their_own_threat_text(tmp_path):
    d = str(tmp_path)
    (tmp_path / "boundaryflow_threat_intel.csv").write_text("indicator,source,category\n2001:db8:bad::/48,x,c2\n")
    (tmp_path / "boundaryflow_assets.csv").write_text("cidr,role,zone,name,tier,link_bps\n10.10.0.0/16,gpu_node,ai,,,\n")
    e = Enricher(config.default(base_dir=d, enrichment_lookups_dir=d), background=False)
    a = _enriched(e, "10.10.0.1", "2001:DB8:BAD:0:0:0:0:5", 6, 1234, 443)
    b = _enriched(e, "10.10.0.1", "2001:db8:bad::5", 6, 1234, 443)
    assert a.threat_match == "2001:DB8:BAD:0:0:0:0:5" and b.threat_match == "2001:db8:bad::5"
    assert a.threat_category == b.threat_category == "c2" and a.community_id == b.community_id
    assert (a.src_role, a.cluster_direction, a.plane) == ("gpu_node", "egress", "outbound")


def test_addresses_with_equal_fields_share_them_but_keep_exact_values(bare):
    # Address fields are shared between addresses whose fields are the same; numbers that compare
    # equal but print differently (GeoIP from a custom database) must not be mixed up.
    answers = {"198.51.100.1": ("US", "X", 0.0, 1), "198.51.100.2": ("US", "X", -0.0, 1.0),
               "198.51.100.3": ("US", "X", 0.0, 1), "198.51.100.4": ("US", "X", 0.0, True),
               "198.51.100.5": ("US", ["unhashable"], 0.0, 1)}
    bare.geo_city.lookup = answers.get
    got = {ip: _enriched(bare, "10.1.1.1", ip, 6, 1234, 443) for ip in answers}
    for ip, (country, city, lat, lon) in answers.items():
        f = got[ip]
        assert (f.dest_country, f.dest_city) == (country, city)
        assert repr(f.dest_lat) == repr(lat) and repr(f.dest_lon) == repr(lon), ip
    assert bare._cache["198.51.100.1"][1] is bare._cache["198.51.100.3"][1]
    assert bare._cache["198.51.100.1"][1] is not bare._cache["198.51.100.2"][1]
    # flows never write into the shared dicts
    assert bare._cache["198.51.100.1"][1] == {"dest_internal": False, "dest_country": "US", "dest_city": "X",
                                              "dest_lat": 0.0, "dest_lon": 1}
