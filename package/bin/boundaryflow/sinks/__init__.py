"""Outputs. Every sink writes HEC-style envelopes (model.envelope) and nothing else.

Contract:  sink = make_sink(cfg, stream=None)
           sink.write(envelopes)   # list[dict]
           sink.flush(); sink.close(); sink.health()   # counters dict
"""
