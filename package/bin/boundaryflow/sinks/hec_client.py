"""One HTTP(S) connection to Splunk HTTP Event Collector and the meaning of its answers.

The token is kept in one header value and never formatted into a message, exception or file.
"""
from __future__ import annotations

import http.client
import json
import ssl
import urllib.parse

# HEC answers (Splunk docs, "Troubleshoot HTTP Event Collector" status codes)
SUCCESS = "success"
RETRY = "retry"              # busy, unavailable, server error, auth or URL problems: keep the data
REJECT = "reject"            # the batch itself is bad: retrying cannot help
_BAD_DATA_CODES = {5, 6, 12, 13}     # no data, invalid data format, event field required/blank


class HecConfigError(ValueError):
    """HEC cannot be set up (URL, token variable, CA bundle); the message says how to fix it."""


class HecUnavailable(Exception):
    """No HTTP answer. ``maybe_sent``: the request may have reached HEC (a resend may duplicate).
    ``kind``: tls_errors or connection_errors (the health counter it belongs to)."""

    def __init__(self, reason, maybe_sent, kind="connection_errors"):
        Exception.__init__(self, reason)
        self.maybe_sent = maybe_sent
        self.kind = kind


def classify(status, doc):
    """(outcome, short description) for an HTTP status and HEC JSON body."""
    code = doc.get("code") if isinstance(doc, dict) else None
    text = doc.get("text") if isinstance(doc, dict) else None
    what = "HTTP %d%s%s" % (status, ", code %s" % code if code is not None else "",
                            ": %s" % text if text else "")
    if status == 200 and code in (0, None):
        return SUCCESS, what
    if status == 413 or (status == 400 and code in _BAD_DATA_CODES):
        return REJECT, what
    return RETRY, what


def endpoints(url):
    """(scheme, host, port, event path, ack path) for a HEC URL (base or full endpoint)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise HecConfigError("[output] hec_url: %r is not like https://splunk.example.com:8088" % url)
    path = parts.path.rstrip("/")
    cut = path.find("/services/collector")
    base = path[:cut] if cut >= 0 else path
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return (parts.scheme, parts.hostname, port, base + "/services/collector/event",
            base + "/services/collector/ack")


def tls_context(verify, ca_bundle):
    if not verify:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    try:
        return ssl.create_default_context(cafile=ca_bundle or None)
    except (OSError, ssl.SSLError) as e:
        raise HecConfigError("[output] hec_ca_bundle: cannot load %s (%s)" % (ca_bundle, e))


class HecClient(object):
    def __init__(self, url, token, channel, verify_tls=True, ca_bundle="", timeout=30.0):
        self.scheme, self.host, self.port, self.event_path, self.ack_path = endpoints(url)
        self._context = tls_context(verify_tls, ca_bundle) if self.scheme == "https" else None
        self._headers = {"Authorization": "Splunk " + token, "X-Splunk-Request-Channel": channel,
                         "Content-Type": "application/json"}
        self.timeout = timeout
        self._conn = None
        # load-balancer cookies (e.g. AWS ELB stickiness on Splunk Cloud) are sent back so that a
        # channel's ackIds are queried on the indexer that issued them
        self._cookies = {}

    def __repr__(self):
        return "HecClient(%s://%s:%s)" % (self.scheme, self.host, self.port)

    def _connection(self):
        if self._conn is None:
            if self._context is not None:
                self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                         context=self._context)
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def post(self, path, body, gzipped=False):
        """POST and return (status, parsed JSON or {}); raises HecUnavailable without an answer."""
        headers = dict(self._headers)
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        if self._cookies:
            headers["Cookie"] = "; ".join("%s=%s" % kv for kv in self._cookies.items())
        conn = self._connection()
        sent = False
        try:
            conn.request("POST", path, body=body, headers=headers)
            sent = True
            resp = conn.getresponse()
            raw = resp.read()
            status = resp.status
        except ssl.SSLCertVerificationError as e:
            self.close()
            raise HecUnavailable("TLS certificate not trusted (%s); set [output] hec_ca_bundle"
                                 % getattr(e, "verify_message", "verify failed"), False, "tls_errors")
        except ssl.SSLError as e:
            self.close()
            raise HecUnavailable("TLS error: %s" % e.reason, sent, "tls_errors")
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise HecUnavailable("%s: %s" % (type(e).__name__, e), sent)
        for cookie in resp.headers.get_all("Set-Cookie") or ():
            name, sep, value = cookie.split(";", 1)[0].strip().partition("=")
            if sep and name:
                self._cookies[name] = value
        if resp.will_close:
            self.close()
        try:
            doc = json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError:
            doc = {}
        return status, doc

    def send_events(self, body, gzipped):
        return self.post(self.event_path, body, gzipped)

    def query_acks(self, ack_ids):
        return self.post(self.ack_path, json.dumps({"acks": list(ack_ids)}).encode("ascii"))
