"""ExporterState: persistence, bounds, template floods, shared compiled templates."""
import json

import decode_builders as B
from boundaryflow.decode import ExporterState, decode

BASIC = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4)]
REC = B.encode_record(BASIC, ["10.0.0.1", "10.0.0.2", 1, 2, 6, 100, 1])


def test_to_dict_is_json_and_restores_templates_and_options():
    st = ExporterState()
    opt = B.v9_options_template_set(257, [(1, 4)], [(34, 4)])
    names_t = B.v9_options_template_set(258, [(2, 4)], [(82, 8)])
    decode(B.v9([B.v9_template_set([(256, BASIC)]), opt, names_t,
                 B.data_set(257, [B.encode_record([(1, 4), (34, 4)], [0, 10])]),
                 B.data_set(258, [B.encode_record([(2, 4), (82, 8)], [1, b"eth1"])])],
                source_id=3), st, 100.0)
    fields = [(0, 8, 4), (0, 12, 4), (0, 95, B.VARIABLE)]
    decode(B.ipfix([B.ipfix_template_set([(256, fields)])], domain=3), st, 100.0)
    saved = json.loads(json.dumps(st.to_dict()))

    restored = ExporterState.from_dict(saved, max_templates=1024, max_pending=512, template_ttl=1800.0)
    assert restored.pending_count() == 0 and restored.counters["flows"] == 0
    (f,) = decode(B.v9([B.data_set(256, [REC])], source_id=3, seq=1), restored, 200.0)
    assert (f.bytes_out, f.sampling_rate) == (1000, 10)
    (g,) = decode(B.ipfix([B.data_set(256, [B.encode_record(fields, ["10.0.0.1", "10.0.0.2", b"\x03\x01"])])],
                          domain=3), restored, 200.0)
    assert g.app == "nbar:3:1"
    assert restored.counters["template_misses"] == 0


def test_from_dict_skips_garbage():
    st = ExporterState.from_dict({"templates": [{"version": "ipfix"}, {"fields": "x"}, 7],
                                  "options": [{"domain": "x"}, None]})
    assert st.templates == {} and st.pending_count() == 0
    assert ExporterState.from_dict(None).templates == {}


def test_template_flood_is_bounded_and_counted():
    st = ExporterState(max_templates=16)
    for batch in range(20):
        tset = B.v9_template_set([(256 + batch * 10 + i, BASIC) for i in range(10)])
        decode(B.v9([tset], source_id=batch, seq=batch), st, 1.0)
    assert len(st.templates) == 16
    assert st.counters["templates_rejected"] == 200 - 16
    # templates already known keep working
    (key, _t), = list(st.templates.items())[:1]
    version, domain, tid = key
    assert len(decode(B.v9([B.data_set(tid, [REC])], source_id=domain, seq=99), st, 2.0)) == 1


def test_expired_templates_make_room_for_new_ones():
    st = ExporterState(max_templates=2, template_ttl=10.0)
    decode(B.v9([B.v9_template_set([(256, BASIC), (257, BASIC)])]), st, 0.0)
    decode(B.v9([B.v9_template_set([(258, BASIC)])], seq=1), st, 100.0)
    assert st.counters["templates_rejected"] == 0 and st.counters["templates_expired"] == 2
    assert list(st.templates) == [("netflow9", 0, 258)]


def test_refreshing_a_template_does_not_recompile_or_count():
    st = ExporterState()
    tset = B.v9_template_set([(256, BASIC)])
    decode(B.v9([tset]), st, 1.0)
    first = st.templates[("netflow9", 0, 256)].compiled
    decode(B.v9([tset], seq=1), st, 50.0)
    t = st.templates[("netflow9", 0, 256)]
    assert t.compiled is first and t.refreshed == 50.0
    assert st.counters["templates_added"] == 1


def test_equal_templates_of_different_exporters_share_one_compiled_converter():
    a, b = ExporterState(), ExporterState()
    decode(B.v9([B.v9_template_set([(256, BASIC)])]), a, 1.0)
    decode(B.v9([B.v9_template_set([(300, BASIC)])], source_id=9), b, 1.0)
    assert a.templates[("netflow9", 0, 256)].compiled is b.templates[("netflow9", 9, 300)].compiled


def test_changed_template_replaces_the_old_one():
    st = ExporterState()
    decode(B.v9([B.v9_template_set([(256, BASIC)])]), st, 1.0)
    swapped = [(12, 4), (8, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4)]
    decode(B.v9([B.v9_template_set([(256, swapped)])], seq=1), st, 1.0)
    (f,) = decode(B.v9([B.data_set(256, [REC])], seq=2), st, 1.0)
    assert (f.src_ip, f.dest_ip) == ("10.0.0.2", "10.0.0.1")


def test_pending_bytes_are_bounded():
    st = ExporterState(max_pending=1000, max_pending_bytes=10000)
    big = B.data_set(400, [REC * 100])
    for i in range(20):
        decode(B.v9([big], seq=i), st, 1.0)
    assert st.pending_bytes <= 10000
    assert st.counters["pending_dropped"] >= 14


def test_pending_older_than_ttl_is_dropped_when_template_comes():
    st = ExporterState(template_ttl=30.0)
    decode(B.v9([B.data_set(256, [REC])]), st, 0.0)
    assert decode(B.v9([B.v9_template_set([(256, BASIC)])], seq=1), st, 100.0) == []
    assert st.counters["pending_dropped"] == 1 and st.pending_count() == 0


def test_templates_without_data_are_never_compiled():
    from boundaryflow.decode import compiler
    st = ExporterState()
    before = len(compiler._cache)
    tset = B.v9_template_set([(256 + i, [(8, 4), (12, 4)] + [(1, 4)] * (i + 40)) for i in range(30)])
    decode(B.v9([tset]), st, 1.0)
    assert len(st.templates) == 30
    assert len(compiler._cache) == before
