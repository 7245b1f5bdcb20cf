"""Outputs. Every sink writes HEC-style envelopes (model.envelope) and nothing else.

Contract:  sink = make_sink(cfg, stream=None)
           sink.write(envelopes)   # list[dict]
           sink.flush(); sink.close(); sink.health()   # counters dict

``[output] sink``:
- jsonl: one envelope per line; ``path = -`` writes to ``stream`` (default stdout), else appends to
  the file.
- splunk: the modular-input stream (``splunk_stream.SplunkStreamSink``) on ``stream`` or stdout.
- hec: Splunk HTTP Event Collector (``hec.HecSink``): batching, gzip, channel + ack, retry with
  backoff, bounded on-disk spool, TLS verification on by default, token from an environment variable.
``health()`` always has events_out and bytes_out (bytes of JSON written or delivered).
JSON comes from ``serialize.dumps``/``dumpb`` (orjson when installed, the stdlib otherwise).
"""
from __future__ import annotations

import sys


def make_sink(cfg, stream=None):
    kind = cfg.output.sink
    if kind == "jsonl":
        from .jsonl import JsonlSink
        return JsonlSink(cfg.output.path, stream)
    if kind == "splunk":
        from .splunk_stream import SplunkStreamSink   # owned by the add-on; imported only when used
        return SplunkStreamSink(stream or sys.stdout)
    if kind == "hec":
        from .hec import HecSink
        return HecSink(cfg)
    raise ValueError("[output] sink: unknown sink %r (jsonl, splunk, hec)" % kind)


__all__ = ["make_sink"]
