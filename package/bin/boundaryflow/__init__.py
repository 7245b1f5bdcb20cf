"""Boundary Flow engine: a NetFlow/IPFIX/sFlow collector for AI-cluster network boundaries.

Layers (DESIGN.md §2): model + config (base) <- decode, track, enrich, detect, reduce, sinks
<- pipeline <- cli / Splunk helper. Nothing here imports splunklib, solnlib or splunktaucclib.
"""
__version__ = "0.1.0"
