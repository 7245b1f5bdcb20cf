"""Information-element table: (enterprise number, element id) -> what the value means.

Loaded once from ``data/ipfix_elements.csv`` (IANA elements) and ``data/vendor_fields.csv``
(NSEL, PAN-OS, ...). RFC 5103 reverse elements (PEN 29305) are the IANA element with its
direction-bearing attribute turned around.
"""
from __future__ import annotations

from ..data import read_csv

REVERSE_PEN = 29305

# attributes whose RFC 5103 reverse counterpart means something to the Flow record
_REVERSE_ATTR = {"bytes_out": "bytes_in", "packets_out": "packets_in", "tcp_flags": "reverse_tcp_flags",
                 "bytes_out_total": "bytes_in_total", "packets_out_total": "packets_in_total"}


class Element(object):
    __slots__ = ("pen", "id", "name", "type", "attr", "values")

    def __init__(self, pen, id, name, type, attr, values):
        self.pen, self.id, self.name, self.type, self.attr, self.values = pen, id, name, type, attr, values


def _parse_values(text):
    out = {}
    for item in (text or "").split(";"):
        if "=" in item:
            code, word = item.split("=", 1)
            out[int(code)] = word.strip()
    return out


def _load():
    table = {}
    for name in ("ipfix_elements.csv", "vendor_fields.csv"):
        for row in read_csv(name):
            pen, eid = int(row["pen"]), int(row["id"])
            table[(pen, eid)] = Element(pen, eid, row["name"], row["type"], row["attr"] or None,
                                        _parse_values(row.get("values")))
    return table


ELEMENTS = _load()


def lookup(pen, eid):
    """The Element for (pen, id), or None when unknown (the decoder skips it by length)."""
    el = ELEMENTS.get((pen, eid))
    if el is not None or pen != REVERSE_PEN:
        return el
    fwd = ELEMENTS.get((0, eid))
    if fwd is None:
        return None
    return Element(pen, eid, "reverse" + fwd.name[:1].upper() + fwd.name[1:], fwd.type,
                   _REVERSE_ATTR.get(fwd.attr), {})
