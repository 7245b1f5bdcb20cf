"""Streaming detectors over event time on the full (oriented, enriched) stream (DESIGN.md §4).

Contract:  engine = DetectionEngine(cfg, state_dir)
           findings = engine.process(flow)        # list[model.Finding]
           findings = engine.advance(event_time)  # close windows up to this event time
           engine.save();  engine.health()        # persist state; counters dict
"""
