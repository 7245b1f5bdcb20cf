"""The decoder's fast paths give the same records as the plain ones: generated readers for
variable-length templates, integer-keyed IPv4 text, per-domain interface-name variants, the
template-set parse cache and the sequence tracker's contiguous fast path."""
import random
import socket
import struct

import pytest

import decode_builders as B
from boundaryflow.decode import DecodeError, ExporterState, decode, templated
from boundaryflow.decode import values as V

VAR = B.VARIABLE
ADDR = [(0, 8, 4), (0, 12, 4), (0, 7, 2), (0, 11, 2), (0, 4, 1)]
ADDR_VALUES = ["10.0.0.1", "192.0.2.9", 40000, 443, 6]


def _ipfix_flows(fields, records, state=None, domain=0):
    data = B.ipfix([B.ipfix_template_set([(256, fields)]),
                    B.data_set(256, [B.encode_record(fields, r) for r in records], pad=False)],
                   domain=domain)
    return decode(data, state or ExporterState(), 1.0)


def _fixed_twin(fields, record):
    """The same record under a template whose variable-length fields have its fixed lengths."""
    out = []
    for (pen, eid, length), value in zip(fields, record):
        if length == VAR:
            length = len(value)
        out.append((pen, eid, length))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_variable_length_reader_matches_the_fixed_length_decoder(seed):
    rng = random.Random(seed)
    # known elements kept (ports, counters, strings, interface), unknown enterprise ones skipped
    pool = [((0, 1, 8), lambda: rng.randrange(1 << 40)), ((0, 2, 4), lambda: rng.randrange(1 << 20)),
            ((0, 10, 4), lambda: rng.randrange(1, 50)), ((0, 6, 1), lambda: rng.randrange(64)),
            ((0, 95, VAR), lambda: bytes(rng.randrange(256) for _ in range(rng.choice([1, 3, 300])))),
            ((0, 82, VAR), lambda: b"eth%d" % rng.randrange(10)),
            ((43874, 3, VAR), lambda: bytes(rng.randrange(256) for _ in range(rng.randrange(0, 20)))),
            ((43874, 4, 2), lambda: rng.randrange(65536)),
            ((0, 152, 8), lambda: 1700000000000 + rng.randrange(10 ** 6))]
    for _ in range(20):
        extra = rng.sample(pool, rng.randrange(1, len(pool)))
        if not any(f[2] == VAR for f, _g in extra):
            extra.append(((0, 95, VAR), lambda: b"\x03\x50"))
        fields = ADDR[:2] + [f for f, _g in extra] + ADDR[2:]
        record = ["10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(256)),
                  "192.0.2.%d" % rng.randrange(256)] + [g() for _f, g in extra] + ADDR_VALUES[2:]
        (got,) = _ipfix_flows(fields, [record])
        (want,) = _ipfix_flows(_fixed_twin(fields, record), [record])
        assert got.__dict__ == want.__dict__


def test_several_variable_length_records_in_one_set():
    fields = ADDR + [(0, 95, VAR), (0, 1, 4), (0, 82, VAR), (0, 2, 4)]
    app_ids = [bytes([13]) + b"\x01" * (i * 97 % 400) for i in range(12)]
    records = [ADDR_VALUES[:2] + [1000 + i, 443, 6, app_ids[i], i, b"if%d" % i, i + 1]
               for i in range(12)]
    flows = _ipfix_flows(fields, records)
    assert [(f.src_port, f.app, f.bytes_out, f.packets_out) for f in flows] == \
        [(1000 + i, V.app_id_text(app_ids[i]), i, i + 1) for i in range(12)]


def test_fixed_fields_after_a_variable_field_that_overruns_the_set_are_counted():
    st = ExporterState()
    fields = ADDR + [(0, 82, VAR), (0, 1, 8)]
    rec = B.encode_record(ADDR, ADDR_VALUES) + b"\x06eth0/1" + b"\0" * 3   # counter cut short
    data = B.ipfix([B.ipfix_template_set([(256, fields)]), B.data_set(256, [rec], pad=False)])
    assert decode(data, st, 1.0) == []
    assert st.counters["malformed_sets"] == 1


def test_three_byte_length_prefix_running_past_the_set_is_counted():
    st = ExporterState()
    fields = ADDR + [(0, 82, VAR)]
    rec = B.encode_record(ADDR, ADDR_VALUES) + b"\xff\x01"              # prefix itself cut short
    data = B.ipfix([B.ipfix_template_set([(256, fields)]), B.data_set(256, [rec], pad=False)])
    assert decode(data, st, 1.0) == []
    assert st.counters["malformed_sets"] == 1


@pytest.mark.parametrize("address", ["0.0.0.0", "255.255.255.255", "1.2.3.4", "10.0.0.255",
                                     "192.168.100.1"])
def test_ipv4_text_edges(address):
    (f,) = _ipfix_flows(ADDR, [[address, address] + ADDR_VALUES[2:]])
    assert f.src_ip == f.dest_ip == address


def test_integer_keyed_ipv4_cache_agrees_with_inet_ntop_and_stays_bounded(monkeypatch):
    monkeypatch.setattr(V, "_CACHE_LIMIT", 64)
    V.V4I.clear()
    rng = random.Random(3)
    for n in [0, 1, 255, 256, 0xFFFFFFFF] + [rng.randrange(1 << 32) for _ in range(500)]:
        assert V.V4I[n] == socket.inet_ntop(socket.AF_INET, struct.pack("!I", n))
        assert len(V.V4I) <= 64
    V.V4I.clear()


def test_interface_names_appear_once_known_and_are_absent_before():
    st = ExporterState()
    tpl = ADDR + [(0, 10, 4), (0, 14, 4)]
    rec = B.encode_record(tpl, ADDR_VALUES + [1, 2])
    (before,) = decode(B.ipfix([B.ipfix_template_set([(256, tpl)]), B.data_set(256, [rec])]), st, 1.0)
    assert "input_if_name" not in before.__dict__ and before.input_if_name is None
    opt = B.ipfix_options_template_set(300, [(0, 10, 4)], [(0, 82, 16)])
    names = B.data_set(300, [B.encode_record([(0, 10, 4), (0, 82, 16)], [1, b"Gi0/1"])])
    decode(B.ipfix([opt, names], seq=1), st, 1.0)
    (after,) = decode(B.ipfix([B.data_set(256, [rec])], seq=1), st, 1.0)
    assert after.input_if_name == "Gi0/1" and "output_if_name" not in after.__dict__


def test_interface_names_with_sampled_counters():
    st = ExporterState()
    opt = B.v9_options_template_set(258, [(2, 4)], [(82, 16), (34, 4)])
    names = B.data_set(258, [B.encode_record([(2, 4), (82, 16), (34, 4)], [1, b"Gi0/1", 10])])
    decode(B.v9([opt, names]), st, 1.0)
    tpl = [(8, 4), (12, 4), (4, 1), (1, 4), (10, 2)]
    rec = B.encode_record(tpl, ["10.0.0.1", "10.0.0.2", 17, 100, 1])
    (f,) = decode(B.v9([B.v9_template_set([(256, tpl)]), B.data_set(256, [rec])], seq=1), st, 1.0)
    assert (f.input_if_name, f.sampling_rate, f.bytes_out) == ("Gi0/1", 10, 1000)


class CountingSets(templated.ParsedSets):
    """The template-set cache, recording for each set whether it had to be parsed."""

    def parse(self, parser, buf, start, end, domain):
        before = len(self.parsed)
        got = templated.ParsedSets.parse(self, parser, buf, start, end, domain)
        self.calls.append(len(self.parsed) > before)
        return got


@pytest.fixture
def parsed_sets(monkeypatch):
    """A fresh, counting template-set cache in place of the shared one."""
    cache = CountingSets()
    cache.calls = []
    monkeypatch.setattr(templated, "PARSED_SETS", cache)
    return cache


def test_resent_template_sets_are_parsed_once_and_give_every_exporter_its_templates(parsed_sets):
    tset = B.ipfix_template_set([(256, ADDR)])
    rec = B.encode_record(ADDR, ADDR_VALUES)
    states = [ExporterState(), ExporterState()]
    for domain in (1, 2):
        for st in states:
            flows = decode(B.ipfix([tset, B.data_set(256, [rec])], domain=domain), st, 1.0)
            assert [f.observation_domain for f in flows] == [domain]
    assert parsed_sets.calls == [True, False, False, False]
    assert all(len(st.templates) == 2 for st in states)


def test_malformed_template_set_is_rejected_every_time_never_remembered(parsed_sets):
    body = struct.pack("!HH", 256, 50) + struct.pack("!HH", 8, 4)        # 50 fields claimed
    bad = B.ipfix([struct.pack("!HH", 2, 4 + len(body)) + body])
    st = ExporterState()
    for _ in range(3):
        with pytest.raises(DecodeError):
            decode(bad, st, 1.0)
    assert parsed_sets.parsed == {} and st.counters["decode_errors"] == 3


def test_template_parse_cache_is_bounded_by_bytes(parsed_sets):
    parsed_sets.budget = 200
    st = ExporterState()
    for port in range(40):
        tpl = ADDR + [(0, 1, 1 + port % 8), (0, 2, 1 + port // 8)]
        decode(B.ipfix([B.ipfix_template_set([(256 + port, tpl)])]), st, 1.0)
        assert 0 < parsed_sets.held <= 200
        assert parsed_sets.held == sum(len(raw) for _p, raw in parsed_sets.parsed)
    assert len(st.templates) == 40


def test_large_template_sets_are_parsed_but_not_kept(parsed_sets):
    parsed_sets.max_set = 16
    st = ExporterState()
    (f,) = decode(B.ipfix([B.ipfix_template_set([(256, ADDR)]),
                           B.data_set(256, [B.encode_record(ADDR, ADDR_VALUES)])]), st, 1.0)
    assert f.src_ip == "10.0.0.1" and parsed_sets.parsed == {}


@pytest.mark.parametrize("numbering", ["rfc", "after"])
def test_sequence_gap_after_a_long_contiguous_run_is_counted(numbering):
    st = ExporterState()
    r = B.encode_record(ADDR, ADDR_VALUES)
    seq = 0
    decode(B.ipfix([B.ipfix_template_set([(256, ADDR)]), B.data_set(256, [r] * 2)],
                   seq=seq if numbering == "rfc" else 2), st, 1.0)
    seq = 2
    sizes = [3, 1, 4, 1, 5, 9, 2, 6]
    for n in sizes:
        if numbering == "rfc":
            decode(B.ipfix([B.data_set(256, [r] * n)], seq=seq), st, 1.0)
            seq += n
        else:
            seq += n
            decode(B.ipfix([B.data_set(256, [r] * n)], seq=seq), st, 1.0)
    assert st.counters["sequence_gaps"] == 0 and st.counters["sequence_resets"] == 0
    seq += 7                                            # 7 records lost
    decode(B.ipfix([B.data_set(256, [r] * 2)], seq=seq + (2 if numbering == "after" else 0)),
           st, 1.0)
    assert st.counters["sequence_gaps"] == 7
