"""HTTPS for feeds, MaxMind downloads and identity APIs: one place that decides TLS verification.

Verification is always on unless a feed sets ``verify_tls = false``. ``ca_bundle`` (PEM file) lets
a site trust its own CA (a TLS-inspecting proxy, an internal TAXII server) without turning
verification off.
"""
from __future__ import annotations

import os

try:
    import requests
except ImportError:      # only the network features need it
    requests = None

USER_AGENT = "boundaryflow-enrich/1"
TIMEOUT = (10, 60)       # connect, read (seconds)


def ca_bundle_path(cfg):
    path = cfg.enrichment.ca_bundle
    return os.path.join(cfg.base_dir, os.path.expanduser(path)) if path else ""


def verify_setting(cfg, verify_tls=True):
    """The ``verify=`` value for requests: the CA bundle path, True (system/certifi CAs) or False."""
    if not verify_tls:
        return False
    return ca_bundle_path(cfg) or True


if requests is not None:
    class _Session(requests.Session):
        """A Session whose own ``verify`` wins over REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE.

        Plain requests lets those variables replace ``Session.verify`` (psf/requests#3829), which
        would silently ignore ca_bundle or verify_tls = false. With verify left True the variables
        still apply, as administrators expect."""

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            settings = super(_Session, self).merge_environment_settings(url, proxies, stream, verify, cert)
            if verify is None and self.verify is not True:
                settings["verify"] = self.verify
            return settings


def session(verify):
    if requests is None:
        raise RuntimeError("the requests package is not installed")
    s = _Session()
    s.verify = verify
    s.headers["User-Agent"] = USER_AGENT
    return s


class NotModified(Exception):
    """The server answered 304: keep what we have."""


def conditional_get(sess, url, etag=None, last_modified=None, headers=None):
    """GET with If-None-Match / If-Modified-Since. Returns (body bytes, etag, last_modified);
    raises NotModified on 304 and requests exceptions on network/TLS/HTTP errors."""
    h = dict(headers or {})
    if etag:
        h["If-None-Match"] = etag
    if last_modified:
        h["If-Modified-Since"] = last_modified
    resp = sess.get(url, headers=h, timeout=TIMEOUT)
    if resp.status_code == 304:
        raise NotModified()
    resp.raise_for_status()
    return resp.content, resp.headers.get("ETag"), resp.headers.get("Last-Modified")


def describe_error(e):
    """A short, operator-friendly reason for a failed request."""
    if requests is not None:
        if isinstance(e, requests.exceptions.SSLError):
            return "TLS verification failed (set [enrichment] ca_bundle to trust a private CA): %s" % _first_line(e)
        if isinstance(e, requests.exceptions.HTTPError) and e.response is not None:
            return "HTTP %s from %s" % (e.response.status_code, e.response.url)
        if isinstance(e, requests.exceptions.ConnectionError):
            return "connection failed: %s" % _first_line(e)
        if isinstance(e, requests.exceptions.Timeout):
            return "timed out"
    return "%s: %s" % (type(e).__name__, _first_line(e))


def _first_line(e):
    text = str(e)
    return text.splitlines()[0][:300] if text else type(e).__name__
