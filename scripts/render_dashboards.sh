#!/usr/bin/env bash
# Render the app's Dashboard Studio dashboards headless to docs/dashboards/*.png (the README shows them).
#
#   scripts/render_dashboards.sh [EVENTS.jsonl LOOKUPS_DIR]
#
# Rows: by default a replayed scenario (tools/dashboards/preview/make_events.py: scenario -> IPFIX
# pcap -> `boundaryflow replay`); or the events and lookups given, e.g. out/demo/events.jsonl from
# `boundaryflow demo`. Each ds.search is swapped for a ds.test holding rows computed from those
# events (tools/dashboards/preview/rows.py), the page is rendered by Splunk's DashboardCore
# (esbuild bundle of tools/dashboards/src/render.jsx) in Debian's chromium.
# Needs: node + npm, chromium (apt-get install chromium), the .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-$ROOT/.venv/bin/python}
DASH=$ROOT/tools/dashboards
WORK=${BOUNDARYFLOW_RENDER_DIR:-$ROOT/.cache/render}
OUT=$ROOT/docs/dashboards
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "chromium not found: apt-get install chromium" >&2; exit 1; }

# Node dependencies (pinned in package.json / package-lock.json) and the bundle.
if [ ! -d "$DASH/node_modules/@splunk/dashboard-core" ]; then
  (cd "$DASH" && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi)
fi
(cd "$DASH" && node esbuild.config.mjs)

mkdir -p "$WORK" "$OUT"
if [ $# -ge 2 ]; then
  EVENTS=$1; LOOKUPS=$2
else
  "$PY" "$DASH/preview/make_events.py" "$WORK/scenario"
  EVENTS=$WORK/scenario/events.jsonl; LOOKUPS=$WORK/scenario/lookups
fi

"$PY" "$DASH/preview/build_pages.py" "$EVENTS" "$LOOKUPS" "$WORK/pages" > "$WORK/pages.txt"
while read -r stem width height; do
  # The page is as tall as the layout; virtual time lets the charts settle. No --disable-gpu: the
  # map visualization draws with WebGL, which headless chromium provides through SwiftShader.
  "$CHROMIUM" --headless --no-sandbox --enable-unsafe-swiftshader --hide-scrollbars --force-device-scale-factor=1 \
    --window-size="$width,$((height + 16))" --virtual-time-budget=8000 \
    --screenshot="$OUT/$stem.png" "file://$WORK/pages/$stem.html" </dev/null >/dev/null 2>&1
  echo "rendered $OUT/$stem.png"
done < "$WORK/pages.txt"
