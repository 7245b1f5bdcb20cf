#!/usr/bin/env python3
"""Generate the app's Splunk content from content/ (the YAML and JSON sources).

    python scripts/gen_content.py          # write package/default/{savedsearches,macros}.conf and views
    python scripts/gen_content.py --check  # exit 1 if a generated file is missing or stale (CI)

Sources: content/detections/*.yml (security_content format), content/reports/*.yml,
content/macros.yml, content/schedules.yml, content/dashboards/*.json.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "content"))

from lib import render  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report stale generated files")
    args = ap.parse_args(argv)
    stale = []
    for rel, text in render.outputs().items():
        path = ROOT / rel
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        stale.append(rel)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for rel in stale:
        print(("stale: " if args.check else "wrote: ") + rel)
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
