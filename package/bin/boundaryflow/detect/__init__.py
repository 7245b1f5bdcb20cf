"""Streaming detectors over event time on the full (oriented, enriched) stream (DESIGN.md §4).

Contract:  engine = DetectionEngine(cfg, state_dir)
           findings = engine.process(flow)        # list[model.Finding]
           findings = engine.advance(event_time)  # close windows up to this event time
           engine.save();  engine.health()        # persist state; counters dict

Event time: the watermark is the highest record end time seen (or passed to ``advance``); windows
close, and records count as late, ``max_lateness`` behind it. ``advance(math.inf)`` at the end of a
replay confirms every pending window. State lives in ``<state_dir>/detect_state.json``.

Modules: engine (dispatch, time, persistence), exfil, longlived, supply_chain, inference, volume,
policy (threat intel, management, RDMA), with shared helpers allowlist, hours, learning, windows,
bounded, signatures (data/signatures.csv), state.
"""
from .engine import DetectionEngine  # noqa: F401
from .signatures import SIGNATURES  # noqa: F401
