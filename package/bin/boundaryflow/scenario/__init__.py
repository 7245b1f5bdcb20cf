"""Synthetic AI-cluster boundary traffic with labelled attacks, exported as real IPFIX over UDP.

Used by ``boundaryflow demo``, the detection-quality tests and the dashboard renderings.

    model        the address plan (plan.json) and the lookups a collector needs for it
    records      one connection -> the unidirectional export records a router sends
    context      timeline (learning, operational hours) and the builder collecting connections
    traffic      benign traffic: ingestion, checkpoints, inference, management, repos, DNS/NTP ...
    attacks      one injector per DESIGN.md §4 signature, plus benign near-misses
    generate     generate(seed, start, days, learning_days, attacks, scale) -> Scenario
    ipfix_export IPFIX (RFC 7011) encoder and UDP exporter
    pcap         the exported datagrams as a pcap capture
    replay       engine configuration for a scenario; in-process replay through a Pipeline
    score        precision/recall of findings against the scenario's ground truth
    demo         run_demo(argv): the whole story against a live collector

Only ``replay`` and ``demo`` touch the engine (pipeline, sinks); the rest uses the base modules.
"""
