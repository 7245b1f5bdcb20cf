"""Every search the app ships: saved searches (and their notable drilldowns) and dashboard queries."""
from __future__ import annotations

import json
import re

from .inventory import PACKAGE, Conf


def _views():
    """{view file stem: definition dict} of the Dashboard Studio views in the package."""
    out = {}
    for path in sorted((PACKAGE / "default" / "data" / "ui" / "views").glob("*.xml")):
        m = re.search(r"<!\[CDATA\[(.*)\]\]>", path.read_text(), re.S)
        if m:
            out[path.stem] = json.loads(m.group(1))
    return out


def dashboard_searches(definition):
    """(data source id, full query) for each ds.search and ds.chain (chains prefixed by parents)."""
    sources = definition.get("dataSources", {})

    def full(ds_id, depth=0):
        ds = sources[ds_id]
        query = ds.get("options", {}).get("query", "")
        if ds["type"] == "ds.chain" and depth < 10:
            return full(ds["options"]["extend"], depth + 1) + " " + query
        return query

    return [(ds_id, full(ds_id)) for ds_id, ds in sources.items() if ds["type"] in ("ds.search", "ds.chain")]


def searches():
    """[(where, spl)] for every search in savedsearches.conf and the views."""
    out = []
    conf = Conf(PACKAGE / "default" / "savedsearches.conf")
    for name, kv in conf.stanzas.items():
        out.append(("savedsearches.conf [%s]" % name, kv["search"]))
        for i, dd in enumerate(json.loads(kv.get("action.notable.param.drilldown_searches", "[]"))):
            out.append(("savedsearches.conf [%s] drilldown %d" % (name, i), dd["search"]))
    for stem, definition in _views().items():
        for ds_id, query in dashboard_searches(definition):
            out.append(("views/%s.xml %s" % (stem, ds_id), query))
    return out
