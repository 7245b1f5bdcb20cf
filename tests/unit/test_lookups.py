import random
import ipaddress

from boundaryflow.lookups import CidrTable, load_cidr_lookup


def test_longest_prefix_wins_and_v6():
    t = CidrTable([("10.0.0.0/8", "corp"), ("10.1.0.0/16", "gpu"), ("10.1.2.3", "host"), ("2001:db8::/32", "v6")])
    assert t.lookup("10.9.9.9") == "corp"
    assert t.lookup("10.1.9.9") == "gpu"
    assert t.lookup("10.1.2.3") == "host"
    assert t.lookup("10.1.2.4") == "gpu"
    assert t.lookup("11.0.0.1") is None
    assert t.lookup("2001:db8::5") == "v6" and t.lookup("2001:db9::5") is None
    assert t.lookup("not-an-ip") is None


def test_matches_brute_force_on_random_tables():
    rng = random.Random(7)
    nets = []
    for i in range(200):
        plen = rng.choice([8, 12, 16, 20, 24, 28, 32])
        nets.append((ipaddress.ip_network("%d.%d.%d.%d/%d" % (10, rng.randrange(4), rng.randrange(256),
                                                             rng.randrange(256), plen), strict=False), i))
    t = CidrTable(nets)
    for _ in range(2000):
        ip = ipaddress.ip_address("10.%d.%d.%d" % (rng.randrange(4), rng.randrange(256), rng.randrange(256)))
        covering = [(n.prefixlen, idx, v) for idx, (n, v) in enumerate(nets) if ip in n]
        # most specific prefix; among equal prefixes the later row wins (painted last)
        want = max(covering)[2] if covering else None
        assert t.lookup(str(ip)) == want


def test_csv_lookup_with_comments_and_bad_rows(tmp_path):
    p = tmp_path / "assets.csv"
    p.write_text("# fill in your GPU ranges\ncidr,role\n10.1.0.0/16,gpu_node\nbogus,storage\n")
    table, bad = load_cidr_lookup(str(p), ["role"])
    assert table.lookup("10.1.1.1") == {"role": "gpu_node"} and bad == 1


def test_large_tables_build_fast_enough_to_refresh_feeds():
    # A regression guard on complexity, not a timing test: 100k /32s plus covering /16s must build
    # (the old painter was quadratic and took minutes at this size).
    import time
    entries = [("10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255), i) for i in range(100000)]
    entries += [("10.%d.0.0/16" % i, "net%d" % i) for i in range(2)]
    t = time.process_time()
    table = CidrTable(entries)
    assert time.process_time() - t < 30
    assert table.lookup("10.0.0.5") == 5 and table.lookup("10.1.134.159") == 99999
    assert table.lookup("10.0.255.255") == 65535
    assert table.lookup("10.1.200.1") == "net1"   # beyond the /32s, the /16 covers it


def test_lookup_int_is_lookup_of_a_parsed_address():
    rng = random.Random(3)
    t = CidrTable([("10.0.0.0/8", "a"), ("10.%d.0.0/16" % rng.randrange(256), "b"), ("2001:db8::/32", "v6"),
                   ("2001:db8:1::/48", "v6b"), ("0.0.0.0/0", "any4")])
    addrs = ["10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(500)]
    addrs += ["2001:db8:%x::%x" % (rng.randrange(4), rng.randrange(65536)) for _ in range(200)]
    addrs += ["0.0.0.0", "255.255.255.255", "::", "2001:db9::1"]
    for a in addrs:
        ip = ipaddress.ip_address(a)
        assert t.lookup_int(int(ip), ip.version) == t.lookup(a) == t.lookup(ip)
    assert CidrTable().lookup_int(1) is None
