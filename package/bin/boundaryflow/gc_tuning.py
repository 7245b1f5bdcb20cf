"""Garbage-collector settings every long-running engine process uses (CLI, Splunk input, benchmarks).

The engine allocates many short-lived records and few reference cycles. With CPython's default
thresholds a young-generation collection runs every 700 allocations and the older generations,
which traverse every live record, follow often; the tables and lookups built at start-up would be
traversed by each of them too. So: collect the young generation less often, and freeze what exists
at start-up out of every collection.
"""
from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50000


def tune_gc():
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 20, 50)
