"""Splunk HTTP Event Collector sink for standalone collectors (Splunk Cloud, indexer clusters).

The pipeline thread only serializes envelopes into the current batch; a sender thread delivers.
Batches leave when they reach ``[output] hec_batch`` bytes or ``hec_batch_interval`` age. Each batch
has a sequence number; the sender always sends the lowest one it holds, from memory or from the
on-disk spool, so delivery order is preserved across outages and restarts.

While HEC cannot take data (unreachable, busy, token rejected, ...) the sender backs off
exponentially and moves batches to the spool (``spool_dir`` or ``state_dir/spool``, at most
``spool_max`` bytes; batches that do not fit are dropped and counted). When HEC answers again the
spool drains in order. With ``hec_ack`` a batch counts as delivered only when its ackId is
acknowledged; an ack that never comes leads to a resend. Delivery is at-least-once: a resend after
an unknown outcome may duplicate, counted as ``duplicates_possible``.
"""
from __future__ import annotations

import collections
import gzip
import logging
import os
import random
import threading
import time
import uuid

from .hec_client import REJECT, RETRY, SUCCESS, HecClient, HecConfigError, HecUnavailable, classify
from .serialize import dumpb
from .spool import Spool

log = logging.getLogger("boundaryflow.sinks.hec")


class _Batch(object):
    __slots__ = ("seq", "events", "body", "gz", "spooled", "sent_at")

    def __init__(self, seq, events, body=None, gz=None, spooled=False):
        self.seq, self.events, self.body, self.gz = seq, events, body, gz
        self.spooled = spooled       # still the spool's head file until delivered
        self.sent_at = 0.0

    def gzipped(self):
        if self.gz is None:
            self.gz = gzip.compress(self.body, 6)
        return self.gz

    def raw(self):
        if self.body is None:
            self.body = gzip.decompress(self.gz)
        return self.body


class HecSink(object):
    def __init__(self, cfg, timeout=30.0, backoff_base=0.5, backoff_max=60.0, ack_poll=1.0,
                 ack_timeout=300.0, max_queue_bytes=None, max_pending_acks=64, clock=time.monotonic):
        out = cfg.output
        token = os.environ.get(out.hec_token_env or "", "").strip()
        if not token:
            raise HecConfigError("[output] hec_token_env: environment variable %s is empty or not set; "
                                 "export the HEC token there (it never goes in the config file)"
                                 % (out.hec_token_env or "(none)"))
        self.channel = str(uuid.uuid4())
        self._client = HecClient(out.hec_url, token, self.channel, out.hec_verify_tls,
                                 out.hec_ca_bundle, timeout)
        del token
        if self._client.scheme == "http":
            log.warning("hec_url uses http://: the HEC token and events travel unencrypted")
        elif not out.hec_verify_tls:
            log.warning("hec_verify_tls = false: the HEC server certificate is not checked")
        self.batch_bytes = out.hec_batch
        self.batch_interval = out.hec_batch_interval
        self.use_gzip = out.hec_gzip
        self.use_ack = out.hec_ack
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.ack_poll, self.ack_timeout = ack_poll, ack_timeout
        self.max_queue_bytes = max_queue_bytes or 8 * self.batch_bytes
        self.max_pending_acks = max_pending_acks
        self._clock = clock
        self.spool = Spool(out.spool_dir or os.path.join(cfg.collector.state_dir, "spool"), out.spool_max)
        self._seq = self.spool.last_seq()
        self._lock = threading.Condition()
        self._buf, self._buf_bytes, self._buf_since = [], 0, 0.0
        self._queue = collections.deque()      # _Batch in seq order, not yet sent
        self._queue_bytes = 0
        self._pending = {}                     # ackId -> _Batch awaiting indexer acknowledgement
        self._failures = 0
        self._retry_at = 0.0
        self._next_ack_poll = 0.0
        self._stopping = False
        self._deadline = None
        self._busy = False                     # the sender holds a batch outside the lock
        self.c = collections.Counter()         # see health()
        self.last_error = ""
        self.reachable = None
        self._thread = threading.Thread(target=self._run, name="boundaryflow-hec", daemon=True)
        self._thread.start()

    # -- pipeline thread ---------------------------------------------------------------------
    def write(self, envelopes):
        if not envelopes:
            return
        lines = [dumpb(e) for e in envelopes]
        size = sum(len(x) for x in lines) + len(lines)
        with self._lock:
            if not self._buf:
                self._buf_since = self._clock()
                self._lock.notify_all()       # the sender now has a batch age to watch
            self._buf.extend(lines)
            self._buf_bytes += size
            self.c["events_in"] += len(lines)
            if self._buf_bytes >= self.batch_bytes:
                self._seal()

    def flush(self):
        """Hand the current partial batch to the sender now (does not wait for delivery)."""
        with self._lock:
            self._seal()

    def close(self, timeout=10.0):
        """Deliver what can be delivered within ``timeout``; the rest stays in the spool."""
        with self._lock:
            self._seal()
            self._stopping = True
            self._deadline = self._clock() + timeout
            self._lock.notify_all()
        self._thread.join(timeout + self._client.timeout + 5)
        self._client.close()

    def wait_idle(self, timeout):
        """Block until everything written was delivered (tests, replays); True if so."""
        end = time.monotonic() + timeout
        with self._lock:
            self._seal()
            while self._queue or self._pending or len(self.spool) or self._busy:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.05))
        return True

    def health(self):
        with self._lock:
            h = {k: self.c[k] for k in (
                "events_in", "events_out", "bytes_out", "wire_bytes", "batches_sent", "retries",
                "duplicates_possible", "events_rejected", "events_spooled", "auth_errors",
                "tls_errors", "connection_errors", "server_busy", "http_errors", "sender_errors",
                "acks_received", "ack_timeouts")}
            h.update({
                "sink": "hec", "spool_events": self.spool.events, "spool_bytes": self.spool.bytes,
                "spool_batches": len(self.spool), "spool_dropped_events": self.spool.dropped_events,
                "spool_write_errors": self.spool.write_errors,
                "queue_depth": len(self._queue), "queue_bytes": self._queue_bytes,
                "pending_acks": len(self._pending), "hec_reachable": self.reachable,
                "last_error": self.last_error,
            })
        return h

    # -- batches (caller holds the lock) -------------------------------------------------------
    def _seal(self):
        if not self._buf:
            return
        self._seq += 1
        batch = _Batch(self._seq, len(self._buf), b"\n".join(self._buf))
        self._buf, self._buf_bytes = [], 0
        if self._queue_bytes + len(batch.body) > self.max_queue_bytes:
            self._to_spool(batch)           # the sender is behind: keep memory bounded
        else:
            self._queue.append(batch)
            self._queue_bytes += len(batch.body)
        self._lock.notify_all()

    def _to_spool(self, batch):
        if batch.spooled:
            return                   # its file is still there
        if self.spool.put(batch.seq, batch.events, batch.gzipped()):
            self.c["events_spooled"] += batch.events
        elif self.spool.dropped_batches == 1 or self.spool.dropped_batches % 1000 == 0:
            log.error("HEC spool full (%d bytes): %d events dropped so far",
                      self.spool.max_bytes, self.spool.dropped_events)

    def _spool_queue(self):
        while self._queue:
            batch = self._queue.popleft()
            self._queue_bytes -= len(batch.body)
            self._to_spool(batch)

    def _next_batch(self):
        """The lowest-numbered batch held, from memory or spool (removed from its source)."""
        head = self.spool.head()
        if self._queue and (head is None or self._queue[0].seq < head[0]):
            batch = self._queue.popleft()
            self._queue_bytes -= len(batch.body)
            return batch
        if head is not None:
            # the file stays until HEC took the batch, so a crash mid-send loses nothing
            return _Batch(head[0], head[1], gz=self.spool.read_head(), spooled=True)
        return None

    def _done_with(self, batch):
        if batch.spooled:
            self.spool.pop_head()    # only the sender removes or reorders the head
            batch.spooled = False

    # -- sender thread ---------------------------------------------------------------------------
    def _run(self):
        while True:
            with self._lock:
                now = self._clock()
                if self._buf and now - self._buf_since >= self.batch_interval:
                    self._seal()
                if self._stopping and (now >= self._deadline or self._failures):
                    self._spool_queue()           # out of time or HEC down: keep the rest on disk
                    for batch in self._pending.values():
                        self._to_spool(batch)     # unacknowledged: resend on next start
                        self.c["duplicates_possible"] += batch.events
                    self._pending.clear()
                    self._lock.notify_all()
                    return
                if now < self._retry_at:
                    self._spool_queue()           # HEC down: batches wait on disk, in order
                    self._lock.wait(min(self._retry_at - now, 0.5))
                    continue
                poll = self.use_ack and self._pending and now >= self._next_ack_poll
                batch = None
                if not poll and len(self._pending) < self.max_pending_acks:
                    batch = self._next_batch()
                if batch is None and not poll:
                    if self._stopping and not self._pending:
                        return
                    self._lock.wait(self._idle_wait(now))
                    continue
                self._busy = True
            try:
                if poll:
                    self._poll_acks()
                else:
                    self._send(batch)
            except Exception as e:    # a bug or a local I/O error must not stop delivery for good
                log.exception("HEC sender error")
                if batch is not None:
                    self._failed(batch, "sender error: %s" % type(e).__name__, True, "sender_errors")
            finally:
                with self._lock:
                    self._busy = False
                    self._lock.notify_all()

    def _idle_wait(self, now):
        waits = [0.5]
        if self._buf:
            waits.append(self._buf_since + self.batch_interval - now)
        if self._pending:
            waits.append(self._next_ack_poll - now)
        return max(0.001, min(waits))

    def _send(self, batch):
        body = batch.gzipped() if self.use_gzip else batch.raw()
        try:
            status, doc = self._client.send_events(body, self.use_gzip)
        except HecUnavailable as e:
            self._failed(batch, str(e), e.maybe_sent, e.kind)
            return
        outcome, what = classify(status, doc)
        with self._lock:
            if outcome != RETRY:
                self._done_with(batch)
            if outcome == SUCCESS:
                self._recovered()
                self.c["batches_sent"] += 1
                self.c["wire_bytes"] += len(body)
                ack_id = doc.get("ackId") if isinstance(doc, dict) else None
                if self.use_ack and ack_id is not None:
                    batch.sent_at = self._clock()
                    self._pending[ack_id] = batch
                    if len(self._pending) == 1:
                        self._next_ack_poll = batch.sent_at + self.ack_poll
                else:
                    self._delivered(batch)
                return
            if outcome == REJECT:
                self.c["events_rejected"] += batch.events
                self.last_error = "HEC rejected a batch (%s)%s" % (
                    what, "; lower [output] hec_batch" if status == 413 else "")
                log.error("%s: dropped %d events", self.last_error, batch.events)
                return
        kind = "server_busy" if status == 503 else "auth_errors" if status in (401, 403) else "http_errors"
        self._failed(batch, "HEC refused the batch (%s)" % what, status >= 500 and status != 503, kind)

    def _poll_acks(self):
        with self._lock:
            ids = list(self._pending)
        try:
            status, doc = self._client.query_acks(ids)
        except HecUnavailable as e:
            with self._lock:
                self._next_ack_poll = self._clock() + self.ack_poll
                self.last_error = "ack query failed: %s" % e
            return
        acks = doc.get("acks") if isinstance(doc, dict) else None
        with self._lock:
            now = self._clock()
            self._next_ack_poll = now + self.ack_poll
            if status == 400 and isinstance(doc, dict) and doc.get("code") == 14:
                # the token has acknowledgement off: HTTP 200 was all HEC will ever say
                log.warning("indexer acknowledgement is disabled on the HEC token; not waiting for acks")
                self.use_ack = False
                for batch in self._pending.values():
                    self._delivered(batch)
                self._pending.clear()
                return
            if status != 200 or not isinstance(acks, dict):
                self.last_error = "ack query answered HTTP %d" % status
                return
            for ack_id in ids:
                batch = self._pending.get(ack_id)
                if acks.get(str(ack_id)) is True:
                    del self._pending[ack_id]
                    self.c["acks_received"] += 1
                    self._delivered(batch)
                elif now - batch.sent_at >= self.ack_timeout:
                    # never acknowledged: it may or may not be indexed; send it again
                    del self._pending[ack_id]
                    self.c["ack_timeouts"] += 1
                    self.c["duplicates_possible"] += batch.events
                    self._requeue(batch)

    def _delivered(self, batch):
        self.c["events_out"] += batch.events
        self.c["bytes_out"] += len(batch.raw())

    def _requeue(self, batch):
        # back under its own sequence number, so it is the next one sent
        if batch.spooled:
            return                   # still the spool's head
        if self._queue and self._queue[0].seq < batch.seq:
            self._to_spool(batch)
        else:
            batch.body = batch.raw()
            self._queue.appendleft(batch)
            self._queue_bytes += len(batch.body)

    def _recovered(self):
        if self._failures:
            log.info("HEC is accepting data again; %d spooled events to drain", self.spool.events)
        self._failures = 0
        self._retry_at = 0.0
        self.reachable = True

    def _failed(self, batch, why, maybe_sent, kind):
        with self._lock:
            self.c[kind] += 1
            self.c["retries"] += 1
            if maybe_sent:
                self.c["duplicates_possible"] += batch.events
            if not self._failures:
                log.warning("HEC delivery failed, spooling and retrying: %s", why)
            self.last_error = why
            self.reachable = False
            self._failures += 1
            delay = min(self.backoff_max, self.backoff_base * (2 ** (self._failures - 1)))
            self._retry_at = self._clock() + delay * random.uniform(0.8, 1.0)
            self._requeue(batch)
