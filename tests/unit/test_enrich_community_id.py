"""Community ID v1 (hashlib) against the `communityid` package on its published test vectors."""
from __future__ import annotations

import random
import socket

import pytest

from boundaryflow.enrich.community_id import CommunityId, packed_address

communityid = pytest.importorskip("communityid", reason="pip install communityid (requirements-dev.txt)")

# The package's own test vectors (corelight/pycommunityid tests): tuple -> published ID, seed 0 and 1.
VECTORS = [
    # proto, saddr, daddr, sport/type, dport/code, seed 0, seed 1
    (6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="),
    (6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="),
    (6, "10.0.0.1", "10.0.0.2", 10, 11569, "1:SXBGMX1lBOwhhoDrZynfROxnhnM=", "1:HmBRGR+fUyXF4t8WEtal7Y0gEAo="),
    (17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="),
    (17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="),
    (132, "192.168.170.8", "192.168.170.56", 7, 80, "1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=", "1:Y1/0jQg6e+I3ZwZZ9LP65DNbTXU="),
    (132, "192.168.170.56", "192.168.170.8", 80, 7, "1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=", "1:Y1/0jQg6e+I3ZwZZ9LP65DNbTXU="),
    (1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="),
    (1, "192.168.0.1", "192.168.0.89", 0, 8, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="),
    (1, "192.168.0.89", "192.168.0.1", 20, 0, "1:3o2RFccXzUgjl7zDpqmY7yJi8rI=", "1:lCXHHxavE1Vq3oX9NH5ladQg02o="),
    (1, "192.168.0.89", "192.168.0.1", 20, 1, "1:tz/fHIDUHs19NkixVVoOZywde+I=", "1:Ie3wmFyxiEyikbsbcO03d2nh+PM="),
    (1, "192.168.0.1", "192.168.0.89", 0, 20, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="),
    (58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="),
    (58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="),
    (58, "3ffe:507:0:1:260:97ff:fe07:69ea", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:NdobDX8PQNJbAyfkWxhtL2Pqp5w=", "1:OlOWx9psIbBFi7lOCw/4MhlKR9M="),
    (58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:507:0:1:260:97ff:fe07:69ea", 3, 0, "1:/OGBt9BN1ofenrmSPWYicpij2Vc=", "1:Ij4ZxnC87/MXzhOjvH2vHu7LRmE="),
    (46, "10.1.24.4", "10.1.12.1", None, None, "1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=", "1:BK3BVW3U2eemuwVQVN3zd/GULno="),
    (46, "10.1.12.1", "10.1.24.4", None, None, "1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=", "1:BK3BVW3U2eemuwVQVN3zd/GULno="),
]


def _package_id(seed, proto, saddr, daddr, sport, dport):
    if sport is None:
        tpl = communityid.FlowTuple(proto, saddr, daddr)
    else:
        tpl = communityid.FlowTuple(proto, saddr, daddr, sport, dport)
    return communityid.CommunityID(seed=seed).calc(tpl)


def _ours(seed, proto, saddr, daddr, sport, dport):
    a, b = packed_address(saddr), packed_address(daddr)
    if proto in (1, 58):
        return CommunityId(seed).compute(a, b, proto, 0, 0, icmp_type=sport, icmp_code=dport)
    return CommunityId(seed).compute(a, b, proto, sport or 0, dport or 0)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: "%s-%s-%s" % v[:3])
def test_published_vectors_match_package_and_spec(vector):
    proto, saddr, daddr, sport, dport, want0, want1 = vector
    for seed, want in ((0, want0), (1, want1)):
        assert _package_id(seed, proto, saddr, daddr, sport, dport) == want
        assert _ours(seed, proto, saddr, daddr, sport, dport) == want


def test_netflow_icmp_port_convention():
    # exporters put ICMP type/code in dest_port as type*256+code when no icmp fields are given
    a, b = packed_address("192.168.0.89"), packed_address("192.168.0.1")
    assert CommunityId().compute(a, b, 1, 0, 8 * 256 + 0) == "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="


def test_random_tuples_agree_with_package():
    rng = random.Random(20261125)
    for _ in range(400):
        v6 = rng.random() < 0.3
        fam = socket.AF_INET6 if v6 else socket.AF_INET
        addrs = [socket.inet_ntop(fam, bytes(rng.getrandbits(8) for _ in range(16 if v6 else 4))) for _ in range(2)]
        if rng.random() < 0.05:
            addrs[1] = addrs[0]                       # same host: ports decide the order
        proto = rng.choice((6, 17, 132, 1 if not v6 else 58, 47, 50))
        if proto in (6, 17, 132):
            sport, dport = rng.randint(0, 65535), rng.choice((rng.randint(0, 65535), 443, 53))
        elif proto in (1, 58):
            sport, dport = rng.choice((0, 3, 8, 11, 13, 128, 129, 135, 136, 200)), rng.randint(0, 3)
        else:
            sport = dport = None
        assert _ours(0, proto, addrs[0], addrs[1], sport, dport) == \
            _package_id(0, proto, addrs[0], addrs[1], sport, dport), (proto, addrs, sport, dport)
