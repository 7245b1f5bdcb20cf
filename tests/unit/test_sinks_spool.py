"""The HEC spool: ordered, bounded, survives restarts."""
import gzip
import os

from boundaryflow.sinks.spool import Spool


def test_order_bound_and_restart(tmp_path):
    sp = Spool(str(tmp_path), max_bytes=10_000)
    bodies = {seq: gzip.compress(b'{"event":%d}' % seq) for seq in (3, 1, 2)}
    for seq, body in bodies.items():
        assert sp.put(seq, 1, body)
    assert sp.head() == (1, 1) and sp.events == 3 and sp.bytes == sum(map(len, bodies.values()))
    again = Spool(str(tmp_path), max_bytes=10_000)       # a new process finds the batches
    assert len(again) == 3 and again.last_seq() == 3
    order = []
    while len(again):
        order.append(gzip.decompress(again.read_head()))
        again.pop_head()
    assert order == [b'{"event":1}', b'{"event":2}', b'{"event":3}'] and os.listdir(str(tmp_path)) == []


def test_overflow_is_refused_and_counted(tmp_path):
    sp = Spool(str(tmp_path), max_bytes=100)
    assert sp.put(1, 5, b"x" * 80)
    assert not sp.put(2, 7, b"y" * 30)
    assert (sp.dropped_events, sp.dropped_batches, len(sp)) == (7, 1, 1)
    assert oct(os.stat(os.path.join(str(tmp_path), os.listdir(str(tmp_path))[0])).st_mode & 0o777) == "0o600"


def test_interrupted_write_is_cleaned(tmp_path):
    (tmp_path / "00000000000000000009-3.json.gz.tmp").write_bytes(b"partial")
    sp = Spool(str(tmp_path), max_bytes=100)
    assert len(sp) == 0 and os.listdir(str(tmp_path)) == []
