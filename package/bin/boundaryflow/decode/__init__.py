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

Details:

* Data held for a missing template is decoded when the template arrives and returned from THAT
  later ``decode`` call (with the time context of the datagram that carried it).
* ``state.counters`` (cumulative ints): datagrams, flows, decode_errors (incremented here
  before DecodeError is raised - the pipeline should not count the same error twice),
  template_misses, pending_dropped, pending_decoded, sequence_gaps (missing export packets for
  v9/sFlow, missing records for v5/IPFIX), sequence_resets (exporter restarts, not loss),
  sequence_reordered, templates_added/rejected/expired/withdrawn, unknown_fields_skipped
  (per record), records_not_flows, malformed_sets (a set or sample that could not be decoded;
  the rest of the datagram still is), options_records, sflow_flow_samples,
  sflow_counter_samples, sflow_unparsed_headers.
* ``state.sflow_counters``: {(agent address, ifIndex): latest generic interface counters}.
* Times: event time = flow end (epoch float); a record without times gets the export time
  (sFlow: the arrival time). ICMP type/code go to ``icmp_type``/``icmp_code``; with the v5/v9
  convention (type*256+code in the destination port) ``dest_port`` is then set to 0.
* Information elements and vendor fields come from ``data/ipfix_elements.csv`` and
  ``data/vendor_fields.csv``; each template is compiled once (see ``compiler``).
* ``detect_protocol(data)`` -> "netflow5" | "netflow9" | "ipfix" | "sflow5" | None.
"""
from __future__ import annotations

from . import ipfix, netflow5, netflow9, sflow
from .errors import DecodeError
from .state import ExporterState

__all__ = ["decode", "detect_protocol", "DecodeError", "ExporterState"]

_SFLOW5 = b"\0\0\0\x05"
_VERSIONS = {5: "netflow5", 9: "netflow9", 10: "ipfix"}
# by the 16-bit version field; sFlow's first 16 bits are 0, so it never matches here
_BY_VERSION = {5: netflow5.decode, 9: netflow9.decode, 10: ipfix.decode}


def detect_protocol(data):
    """Export protocol by its version field, or None."""
    if len(data) < 4:
        return None
    if data[:4] == _SFLOW5:
        return "sflow5"
    return _VERSIONS.get((data[0] << 8) | data[1])


def _decoder(data):
    """The decode function for this datagram's protocol (detect_protocol, without the names)."""
    if len(data) >= 4:
        fn = _BY_VERSION.get((data[0] << 8) | data[1])
        if fn is not None:
            return fn
        if data[:4] == _SFLOW5:
            return sflow.decode
    raise DecodeError("unknown export version (first bytes %s)" % bytes(data[:4]).hex())


def decode(data, state, arrival):
    """Flows from one export datagram; raises DecodeError (counted in state) if it is malformed."""
    counters = state.counters
    counters["datagrams"] += 1
    try:
        # the version lookup of _decoder inline (one call less per datagram)
        fn = _BY_VERSION.get((data[0] << 8) | data[1]) if len(data) >= 4 else None
        flows = (fn or _decoder(data))(data, state, arrival)
    except DecodeError:
        counters["decode_errors"] += 1
        raise
    counters["flows"] += len(flows)
    return flows
