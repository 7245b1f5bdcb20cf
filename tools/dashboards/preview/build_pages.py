#!/usr/bin/env python3
"""Write one HTML page per dashboard for the headless screenshots (scripts/render_dashboards.sh).

    python build_pages.py EVENTS.jsonl LOOKUPS_DIR PAGES_DIR

Each page holds the dashboard's definition from content/dashboards/ with every ds.search and
ds.chain swapped for a ds.test carrying the rows rows.py computed from the events, and loads the
esbuild bundle (build/render.js). The time-range input is dropped: it needs splunkweb. Prints
"stem width height" per page for the screenshot step.
"""
from __future__ import annotations

import copy
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "package" / "bin"))
sys.path.insert(0, str(ROOT / "content"))
sys.path.insert(0, str(HERE))

from boundaryflow.lookups import load_cidr_lookup  # noqa: E402
from lib import sources  # noqa: E402
import rows as rows_mod  # noqa: E402

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>%(title)s</title>
<link rel="stylesheet" href="%(bundle)s/render.css">
<style>html, body { margin: 0; background: #0b0c0e; }</style></head>
<body><div id="root"></div>
<script>window.BOUNDARYFLOW_DEFINITION = %(definition)s;</script>
<script src="%(bundle)s/render.js"></script></body></html>
"""


class Assets(object):
    def __init__(self, lookups_dir):
        self.table, _bad = load_cidr_lookup(str(pathlib.Path(lookups_dir) / "boundaryflow_assets.csv"), ("link_bps",))

    def link_bps(self, ip):
        row = self.table.lookup(ip)
        try:
            return float(row["link_bps"]) if row and row["link_bps"] else None
        except ValueError:
            return None


def preview_definition(definition, data):
    d = copy.deepcopy(definition)
    used = {v["dataSources"]["primary"] for v in d["visualizations"].values() if v.get("dataSources")}
    missing = used - set(data)
    if missing:
        raise SystemExit("no preview rows for data sources %s of %s" % (sorted(missing), d["title"]))
    d["dataSources"] = {ds_id: {"type": "ds.test", "name": ds_id, "options": {"data": data[ds_id]}}
                        for ds_id in sorted(used)}
    d.pop("inputs", None)
    d.pop("defaults", None)
    d["layout"].pop("globalInputs", None)
    return d


def main(argv):
    events_path, lookups_dir, pages_dir = argv
    events = rows_mod.Events(events_path)
    data = rows_mod.all_rows(events, Assets(lookups_dir))
    pages = pathlib.Path(pages_dir)
    pages.mkdir(parents=True, exist_ok=True)
    bundle = (HERE.parent / "build").resolve().as_uri()
    for stem, definition in sources.dashboards().items():
        d = preview_definition(definition, data[stem])
        (pages / (stem + ".html")).write_text(PAGE % {"title": d["title"], "bundle": bundle,
                                                       "definition": json.dumps(d)})
        layout = d["layout"]["layoutDefinitions"]["layout_1"]["options"]
        print(stem, layout["width"], layout["height"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
