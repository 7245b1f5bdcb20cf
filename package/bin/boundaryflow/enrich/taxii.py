"""TAXII 2.1 collections through taxii2-client: every page of indicator objects, then STIX parsing."""
from __future__ import annotations

from . import http
from .feed_parsers import stix_indicators

try:
    from taxii2client.common import _HTTPConnection
    from taxii2client.v21 import Collection, as_pages
except ImportError:
    Collection = as_pages = _HTTPConnection = None


def collection_url(url, collection):
    """The config's url may be the API root or the collection URL itself."""
    base = url if url.endswith("/") else url + "/"
    if "/collections/" in base:
        return base
    return "%scollections/%s/" % (base, collection)


def fetch_taxii(url, collection, verify, auth=None, per_request=1000, now=None):
    """All current indicators of one collection -> ParseResult (raises on network/protocol errors)."""
    if Collection is None:
        raise RuntimeError("the taxii2-client package is not installed")
    conn = _HTTPConnection(verify=verify, version="2.1")
    conn.session.close()
    conn.session = http.session(verify)       # our TLS rules (ca_bundle wins over env variables)
    conn.session.auth = auth
    coll = Collection(collection_url(url, collection), conn=conn)
    try:
        objects = []
        for envelope in as_pages(coll.get_objects, per_request=per_request, type="indicator"):
            objects.extend(envelope.get("objects") or ())
        return stix_indicators(objects, now)
    finally:
        coll.close()
