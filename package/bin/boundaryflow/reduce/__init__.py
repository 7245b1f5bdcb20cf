"""What goes to Splunk: ``flow`` (1:1) | ``conversation`` | ``consolidated`` (DESIGN.md §5).

Contract:  reducer = Reducer(cfg)
           out = reducer.add(flow, keep_detail=False)   # list[Flow] ready to emit now
           out = reducer.flush(now, final=False)        # list[Flow] whose interval closed
           reducer.counters                              # flows_in, events_out, ...
Reduced rows are model.Flow objects with ``flow_count`` = records folded in.
"""
