"""Splunk modular-input stream sink: envelopes -> ``<stream><event>...</event></stream>`` on a stream.

splunkd reads a modular input's stdout in XML streaming mode (``streaming_mode_xml``). Each envelope
becomes one ``<event>`` carrying the envelope's time, host, source, sourcetype and index, with the
event body as JSON in ``<data>``. ``<stream>`` opens with the first event and closes in ``close()``.

Why not splunklib's EventWriter: it builds an ElementTree per event and the engine must not import
splunklib (DESIGN.md §2). Plain string building with XML escaping produces the same document; see
benchmarks/bench_splunk_stream.py for the cost of each.
"""
from __future__ import annotations

import os
import re
import threading

from .serialize import dumps

# XML 1.0 forbids these code points even escaped. JSON encoding already escapes U+0000-U+001F in
# the body, so only metadata strings (host, source, ...) need the full scan.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _escape_markup(text):
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def xml_text(value):
    """Escape text for an XML element body (``&``, ``<``, ``>``; invalid code points dropped)."""
    return _INVALID_XML.sub("", _escape_markup(str(value)))


def json_xml_text(data):
    """Escape a JSON document for ``<data>``; a regex scan only when U+FFFE/U+FFFF occur."""
    data = _escape_markup(data)
    if "\ufffe" in data or "\uffff" in data:
        data = data.replace("\ufffe", "").replace("\uffff", "")
    return data


def xml_attr(value):
    return xml_text(value).replace('"', "&quot;")


# fd -> pid of the sink that opened <stream> on it. Forked collector workers inherit this, so their
# sinks add events to the parent's document instead of opening a second one.
_OPEN_DOCUMENTS = {}


def _fileno(stream):
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):   # in-memory streams
        return None


class SplunkStreamSink(object):
    """Write HEC-style envelopes as modular-input XML events.

    ``stream``: a text stream (``sys.stdout``). ``stanza``: the input stanza name, sent as the
    event's ``stanza`` attribute so splunkd applies that input's settings. ``index``: used when an
    envelope names none (an empty index lets splunkd apply the input's index).

    Several worker processes may share one stdout: the parent calls :meth:`open` before forking,
    the workers' sinks then only add events, and the parent's :meth:`close` ends the document.
    """

    def __init__(self, stream, stanza=None, index=None):
        self._stream = stream
        self._open = '<event stanza="%s">' % xml_attr(stanza) if stanza else "<event>"
        self._index = index or None
        self._header_written = False
        self._owns_document = False
        self._closed = False
        self._lock = threading.Lock()   # one document, whatever thread writes
        self.events_out = 0
        self.bytes_out = 0
        self.write_errors = 0

    def _event_xml(self, env):
        parts = [self._open, "<time>%.3f</time>" % float(env["time"])]
        index = env.get("index") or self._index
        if index:
            parts.append("<index>%s</index>" % xml_text(index))
        for key in ("host", "source", "sourcetype"):
            value = env.get(key)
            if value:
                parts.append("<%s>%s</%s>" % (key, xml_text(value), key))
        body = env["event"]
        data = xml_text(body) if isinstance(body, str) else json_xml_text(dumps(body))
        parts.append("<data>%s</data></event>\n" % data)
        return "".join(parts)

    def _start(self):
        """The ``<stream>`` header, unless this process or its parent already opened the document."""
        self._header_written = True
        fd = _fileno(self._stream)
        if fd is not None and fd in _OPEN_DOCUMENTS:
            return ""
        if fd is not None:
            _OPEN_DOCUMENTS[fd] = os.getpid()
        self._owns_document = True
        return "<stream>\n"

    def open(self):
        """Open the document now (before forking workers that write to the same stdout)."""
        with self._lock:
            if not self._header_written:
                self._stream.write(self._start())
                self._stream.flush()

    def write(self, envelopes):
        if not envelopes:
            return
        chunk = "".join([self._event_xml(env) for env in envelopes])
        with self._lock:
            if self._closed:
                raise ValueError("write to a closed SplunkStreamSink")
            if not self._header_written:
                chunk = self._start() + chunk
            try:
                self._stream.write(chunk)
            except (OSError, ValueError):
                self.write_errors += 1   # splunkd closed our stdout: nothing can be delivered
                raise
            self.events_out += len(envelopes)
            self.bytes_out += len(chunk)

    def flush(self):
        with self._lock:
            if not self._closed:
                self._stream.flush()

    def close(self):
        """Close the ``<stream>`` document (if this sink opened it); the stream itself stays open."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._owns_document:
                self._stream.write("</stream>\n")
                _OPEN_DOCUMENTS.pop(_fileno(self._stream), None)
            self._stream.flush()

    def health(self):
        return {"events_out": self.events_out, "bytes_out": self.bytes_out, "write_errors": self.write_errors}
