"""bytes -> Flow records: NetFlow v5, v9, IPFIX (RFC 7011/7012/5103) and sFlow v5.

Contract (used only by ``boundaryflow.pipeline``):

    state = ExporterState(max_templates=1024, max_pending=512, template_ttl=1800.0)
    flows = decode(data, state, arrival)      # list[Flow]; raises DecodeError on a bad datagram

* ``state`` belongs to ONE exporter address; the pipeline keeps one per exporter and passes it
  in, so a decoder never learns which exporter sent the datagram (goflow2's seam). Inside, state
  keys templates by (observation domain / source id, template id), tracks sequence numbers per
  domain, holds data sets that arrive before their template (bounded), keeps options data
  (sampling rate, interface names) and counters (template_misses, sequence_gaps, ...).
* ``state.to_dict()`` / ``ExporterState.from_dict(d, ...)``: JSON-safe persistence of templates
  and options so a restart decodes at once.
* Decoded flows carry everything model.Flow documents for the decoder; never ``exporter``.
"""
