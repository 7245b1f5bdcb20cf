"""Wires the layers: receive -> decode -> track -> enrich -> detect -> reduce -> sinks.

Public API (used by cli, the Splunk helper, tests and the demo):

    decode_capture(path, cfg=None) -> list[Flow]
        every record of a pcap/pcapng capture, decoded exactly as the collector would
        (exporter set, NOT oriented, NOT enriched) - for cross-checks against tshark/nfdump.
    Pipeline(cfg, sink)                    # one engine instance (one worker)
        .handle_datagram(data, exporter_ip, arrival)   # -> None; counts every drop
        .tick(now)                          # periodic: flush reduction intervals, health, refresh
        .close()                            # flush everything, persist state
        .counters / .health_events(now)
    Collector(cfg, sink).run(stop=threading.Event())   # live UDP listeners; SIGTERM -> stop
    replay(path, cfg, sink)                 # a capture through the full pipeline
"""
# (implementation in progress)
