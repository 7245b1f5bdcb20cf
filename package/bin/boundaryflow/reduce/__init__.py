"""What goes to Splunk: ``flow`` (1:1) | ``conversation`` | ``consolidated`` (DESIGN.md §5).

Contract:  reducer = Reducer(cfg)
           out = reducer.add(flow, keep_detail=False)   # list[Flow] ready to emit now
           out = reducer.flush(now, final=False)        # list[Flow] whose interval closed
           reducer.counters                              # flows_in, events_out, ...
Reduced rows are model.Flow objects with ``flow_count`` = records folded in.

Modes (``[reduction] mode``, intervals of ``[reduction] interval`` aligned to event time):
- flow: every record is an event (``add`` returns it).
- conversation: records of one oriented connection (src, src_port, dest, dest_port, protocol,
  exporter) in one interval become one row; bytes/packets summed, tcp_flags OR-ed.
- consolidated: rows per (src, dest, dest_port, transport, app, exporter) with src_port None,
  except security-relevant records (keep_detail from a detector, threat-intel hits, AI
  infrastructure <-> external), which stay conversation rows.
``now`` is event time (the pipeline's watermark). Open keys are capped by
``[collector] max_connections``; going over emits the oldest rows early (``early_flushed``).
``counters``: mode, flows_in, events_out, reduction_ratio, open_keys, early_flushed,
detail_flows, exporters = {exporter: {flows_in, events_out, reduction_ratio}}.
"""
from .reducer import Reducer

__all__ = ["Reducer"]
