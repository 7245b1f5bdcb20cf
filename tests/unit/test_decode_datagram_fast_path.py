"""The per-datagram fast path (templated.decode_message: one data set with a known, compiled
flow template) gives exactly what the general path (split_sets + process) gives: the same flows,
counters, held data, templates and errors, datagram by datagram, including every edge it must
hand over on (padding, lying set lengths, expired / withdrawn / options / unknown templates,
malformed records, sequence numbering)."""
import random
import struct

import pytest

import decode_builders as B
from boundaryflow.decode import DecodeError, ExporterState, decode, ipfix, netflow9, templated

VAR = B.VARIABLE
FLOW = [(0, 8, 4), (0, 12, 4), (0, 7, 2), (0, 11, 2), (0, 4, 1), (0, 2, 4), (0, 1, 4)]
FLOW_VALUES = ["10.0.0.1", "192.0.2.9", 40000, 443, 6, 3, 300]
# an unknown enterprise field (unknown_fields_skipped) and a variable-length one (malformable)
ODD = FLOW + [(43874, 99, 2), (0, 82, VAR)]
ODD_VALUES = FLOW_VALUES + [7, b"eth0"]
NOT_FLOW = [(43874, 98, 4)]                    # no flow element at all: records_not_flows
OPTIONS_SCOPE, OPTIONS = [(0, 10, 4)], [(0, 82, VAR)]


def _general(state, version, domain, buf, pos, end, T, U, arrival, template_sets):
    """The path every message took before the fast path existed."""
    return templated.process(state, version, domain,
                             templated.split_sets(buf, pos, end, version, domain), buf, T, U,
                             arrival, template_sets)


def _run(datagrams, monkeypatch=None):
    """Decode each (datagram, arrival) into one state; per datagram the flows or the error."""
    if monkeypatch is not None:
        monkeypatch.setattr(ipfix, "decode_message", _general)
        monkeypatch.setattr(netflow9, "decode_message", _general)
    state, out = ExporterState(template_ttl=100.0), []
    try:
        for data, arrival in datagrams:
            try:
                out.append([f.__dict__ for f in decode(data, state, arrival)])
            except DecodeError as e:
                out.append(("error", str(e)))
            out.append((dict(state.counters), state.pending_count(), sorted(state.templates),
                        dict(state.sequences.last)))
    finally:
        if monkeypatch is not None:
            monkeypatch.undo()
    return out


def _ipfix_pieces(rng):
    def rec(fields, values, n):
        return [B.encode_record(fields, values)] * n

    data = {
        256: lambda n: B.data_set(256, rec(FLOW, FLOW_VALUES, n), pad=False),
        257: lambda n: B.data_set(257, rec(ODD, ODD_VALUES, n), pad=False),
        258: lambda n: B.data_set(258, [b"\0\0\0\1"] * n, pad=False),
        259: lambda n: B.data_set(259, rec(OPTIONS_SCOPE + OPTIONS, [3, b"ge-0/0/1"], n),
                                  pad=False),
        260: lambda n: B.data_set(260, rec(FLOW, FLOW_VALUES, n), pad=False),   # never announced
    }
    templates = [
        lambda: B.ipfix_template_set([(256, FLOW)]),
        lambda: B.ipfix_template_set([(257, ODD), (258, NOT_FLOW)]),
        lambda: B.ipfix_options_template_set(259, OPTIONS_SCOPE, OPTIONS),
        lambda: B.ipfix_withdrawal(rng.choice([256, 257, 2])),
    ]
    return data, templates


def _v9_pieces(rng):
    v9 = lambda fields: [f[1:] for f in fields]                       # noqa: E731
    odd = v9(FLOW) + [(99, 2)]

    def rec(fields, values, n):
        return [B.encode_record(fields, values)] * n

    data = {
        256: lambda n: B.data_set(256, rec(v9(FLOW), FLOW_VALUES, n), pad=rng.random() < 0.5),
        257: lambda n: B.data_set(257, rec(odd, FLOW_VALUES + [7], n), pad=False),
        258: lambda n: B.data_set(258, [b"\0\0\0\1"] * n, pad=False),
        259: lambda n: B.data_set(259, rec([(2, 4), (82, 8)], [3, b"ge-0/0/1"], n)),
        260: lambda n: B.data_set(260, rec(v9(FLOW), FLOW_VALUES, n)),
    }
    templates = [
        lambda: B.v9_template_set([(256, v9(FLOW))]),
        lambda: B.v9_template_set([(257, odd), (258, [(98, 4)])]),
        lambda: B.v9_options_template_set(259, [(2, 4)], [(82, 8)]),
    ]
    return data, templates


def _mangle(rng, body):
    """Sometimes break the message's sets the ways exporters and attackers do."""
    roll = rng.random()
    if roll < 0.08 and len(body) >= 4:        # a set length that lies (too long / too short)
        length = rng.choice([0, 1, 3, 4, len(body) + rng.randrange(1, 9), len(body) - 1])
        return body[:2] + struct.pack("!H", max(0, min(length, 65535))) + body[4:]
    if roll < 0.16:                           # trailing bytes after the last set
        return body + b"\0" * rng.randrange(1, 9)
    if roll < 0.22 and len(body) > 8:         # record cut short
        cut = rng.randrange(1, 6)
        return body[:2] + struct.pack("!H", len(body) - cut) + body[4:-cut]
    return body


def _datagrams(protocol, seed):
    rng = random.Random(seed)
    data, templates = (_ipfix_pieces if protocol == "ipfix" else _v9_pieces)(rng)
    out, seq, arrival = [], rng.randrange(1 << 32), 1000.0
    for _ in range(120):
        sets = []
        if rng.random() < 0.15:
            sets += [t() for t in rng.sample(templates, rng.randrange(1, len(templates) + 1))]
        ids = [256] * 6 + [257, 258, 259, 260]
        n_data = rng.choice([0, 1, 1, 1, 1, 1, 1, 2, 3] if sets else [1] * 8 + [2])
        for _ in range(n_data):
            sets.append(data[rng.choice(ids)](rng.randrange(1, 5)))
        body = _mangle(rng, b"".join(sets))
        domain = rng.choice([1] * 9 + [2])
        arrival += rng.choice([0.5] * 20 + [150.0])       # now and then past the template TTL
        step = rng.choice([1] * 12 + [0, 2, 7, -1, 1 << 20])
        seq = (seq + step) % (1 << 32)
        if protocol == "ipfix":
            out.append((B.ipfix([body], seq=seq, domain=domain,
                                length=None if rng.random() < 0.95 else 16 + len(body) + 1),
                        arrival))
        else:
            out.append((B.v9([body], seq=seq, source_id=domain,
                             uptime=rng.choice([10000] * 15 + [100])), arrival))
    return out


@pytest.mark.parametrize("protocol", ["ipfix", "netflow9"])
@pytest.mark.parametrize("seed", range(12))
def test_fast_path_matches_the_general_path_datagram_by_datagram(protocol, seed, monkeypatch):
    datagrams = _datagrams(protocol, seed)
    assert _run(datagrams) == _run(datagrams, monkeypatch)


def test_the_usual_datagram_takes_the_fast_path(monkeypatch):
    calls = []
    general = templated.process
    monkeypatch.setattr(templated, "process", lambda *a: calls.append(a) or general(*a))
    st = ExporterState()
    r = B.encode_record(FLOW, FLOW_VALUES)
    decode(B.ipfix([B.ipfix_template_set([(256, FLOW)]), B.data_set(256, [r])]), st, 1.0)
    assert len(calls) == 1                      # templates: the general path (it compiles)
    decode(B.ipfix([B.data_set(256, [r] * 2)], seq=1), st, 1.0)
    decode(B.ipfix([B.data_set(256, [r] * 3)], seq=3), st, 1.0)
    (f,) = decode(B.ipfix([B.data_set(256, [r] + [b"\0\0\0"], pad=False)], seq=6), st, 1.0)
    assert f.src_ip == "10.0.0.1" and f.bytes_out == 300
    assert len(calls) == 1
    assert st.counters["flows"] == 7 and st.counters["sequence_gaps"] == 0


def test_fast_path_counts_a_malformed_set_and_its_records_as_none(monkeypatch):
    st = ExporterState()
    good = B.encode_record(ODD, ODD_VALUES)
    decode(B.ipfix([B.ipfix_template_set([(257, ODD)]), B.data_set(257, [good])]), st, 1.0)
    decode(B.ipfix([B.data_set(257, [good])], seq=1), st, 1.0)
    assert st.counters["unknown_fields_skipped"] == 2
    bad = good[:-5] + b"\x09" + good[-4:]      # variable-length field runs past the set
    assert decode(B.ipfix([B.data_set(257, [bad], pad=False)], seq=2), st, 1.0) == []
    assert st.counters["malformed_sets"] == 1 and st.counters["unknown_fields_skipped"] == 2
    # IPFIX counts records: the malformed set advanced the numbering by 0 (known, not unknown),
    # so records missing after it are a gap
    decode(B.ipfix([B.data_set(257, [good])], seq=4), st, 1.0)
    assert st.counters["sequence_gaps"] == 2 and st.counters["sequence_reordered"] == 0


def test_domains_beyond_the_options_bound_take_the_general_path(monkeypatch):
    from boundaryflow.decode import state as state_module
    monkeypatch.setattr(state_module, "MAX_DOMAINS", 0)      # options are never kept
    st = ExporterState()
    r = B.encode_record(FLOW, FLOW_VALUES)
    decode(B.ipfix([B.ipfix_template_set([(256, FLOW)]), B.data_set(256, [r])]), st, 1.0)
    for seq in (1, 3):
        flows = decode(B.ipfix([B.data_set(256, [r] * 2)], seq=seq), st, 1.0)
        assert [f.src_ip for f in flows] == ["10.0.0.1"] * 2
    assert st.options == {} and st.counters["flows"] == 5
