#!/usr/bin/env bash
# Build both Splunk packages from ONE source (same app id TA_boundaryflow) and AppInspect them.
#   dist/TA_boundaryflow-<version>.tar.gz             full add-on: UDP collector input + engine + lib/
#   dist/TA_boundaryflow-<version>-searchtier.tar.gz  knowledge objects, lookups and content only
#                                                     (Splunk Cloud / search heads fed over HEC)
# Usage: [PACKAGE_OUT=DIR] scripts/package.sh [--no-appinspect]
# Tools live in their own venvs under .cache/venvs (their pins clash with the dev .venv); this
# script creates them, so a fresh machine needs only python3 (and python3.9 if present, see below).
# Exit status: non-zero when a build fails or AppInspect reports an unexpected failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENVS=$ROOT/.cache/venvs
UCC_PIN="splunk-add-on-ucc-framework==6.6.0"
APPINSPECT_PIN="splunk-appinspect==4.3.1"
# The only failure the full add-on may have: it receives UDP flow export by design (DESIGN.md §6).
FULL_ALLOWED_FAILURES="check_for_python_udp_network_communications"
RUN_APPINSPECT=1
[ "${1:-}" = "--no-appinspect" ] && RUN_APPINSPECT=0
# Where output/, build/ and dist/ go (tests build into a temporary directory).
OUT=${PACKAGE_OUT:-$ROOT}
mkdir -p "$OUT"

VERSION=$(python3 -c 'import json; print(json.load(open("globalConfig.json"))["meta"]["version"])')

# venv NAME PYTHON REQUIREMENT... : create/refresh a tool venv when its pins change.
venv() {
  local name=$1 py=$2; shift 2
  local dir=$VENVS/$name stamp
  stamp=$(echo "$py $*" | sha256sum | cut -c1-16)
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  echo "==> setting up $dir ($*)"
  rm -rf "$dir"
  "$py" -m venv "$dir" >/dev/null
  { "$dir/bin/python" -m pip install -q "pip==25.3" && { [ $# -eq 0 ] || "$dir/bin/python" -m pip install -q "$@"; }; } \
    > "$dir.log" 2>&1 || { grep -v "^WARNING: Location" "$dir.log" | tail -20; exit 1; }
  echo "$stamp" > "$dir/.stamp"
}

# Libraries for lib/ are resolved by a Python 3.9 interpreter when one exists (Splunk 9.3's Python),
# so no dependency that needs 3.10+ can slip in; else by python3 with the same pins.
find_py39() {
  command -v python3.9 >/dev/null 2>&1 && python3.9 -c '' 2>/dev/null && { command -v python3.9; return; }
  local p
  for p in "$(pyenv root 2>/dev/null)"/versions/3.9*/bin/python3.9 /usr/bin/python3.9; do
    [ -x "$p" ] && { echo "$p"; return; }
  done
  echo ""
}

venv ucc python3 "$UCC_PIN"
PY39=$(find_py39)
if [ -n "$PY39" ]; then
  venv py39 "$PY39"
  LIB_PYTHON=$VENVS/py39/bin/python
else
  echo "WARNING: no python3.9 found; lib/ is resolved with $(python3 --version)" >&2
  LIB_PYTHON=$VENVS/ucc/bin/python
fi

STAGE=$OUT/build/stage
rm -rf "$STAGE" && mkdir -p "$STAGE/full" "$STAGE/searchtier" "$OUT/dist" "$OUT/build/appinspect"

# Full: the source as it is, without local build debris.
copy_source() {
  tar -C "$ROOT" --exclude='__pycache__' --exclude='*.pyc' --exclude='*.egg-info' \
      --exclude='local' --exclude='*.meta.local' -cf - package | tar -C "$1" -xf -
}
copy_source "$STAGE/full"
cp globalConfig.json "$STAGE/full/globalConfig.json"

# Search tier: the same source minus everything that collects (no bin/, no lib/, no input, no UI
# pages: nothing there to configure) - so no Python and no UDP at all.
copy_source "$STAGE/searchtier"
ST=$STAGE/searchtier/package
# Same app id, version and meta; no pages (nothing to configure without the collector).
python3 -c 'import json, sys; m = json.load(open("globalConfig.json"))["meta"]; m.pop("supportedPythonVersion", None); json.dump({"meta": m}, sys.stdout, indent=2)' \
  > "$STAGE/searchtier/globalConfig.json"
rm -rf "$ST/bin" "$ST/lib" "$ST/default/inputs.conf" "$ST/README/inputs.conf.spec"
NAV=$ST/default/data/ui/nav/default.xml
if [ -f "$NAV" ]; then   # the collector's UCC pages do not exist in this variant
  sed -i -e '/<view name="inputs"/d' -e '/<view name="configuration"/d' "$NAV"
  sed -i -e 's/<view default="true" name="inputs" *\/>//' "$NAV"
fi

UCC=$VENVS/ucc/bin/ucc-gen
# lib/ must run on every Splunk platform (x86_64, AArch64, ...): charset-normalizer is built from its
# sdist (pure Python unless asked for mypyc); maxminddb's optional C reader is removed after the
# build (maxminddb falls back to its pure-Python reader), so no single-platform binary ships.
PIP_FLAGS="--no-compile --prefer-binary --ignore-installed --no-binary=charset-normalizer"
echo "==> ucc-gen build (full) $VERSION"
rm -rf "$OUT/output"
"$UCC" build --source "$STAGE/full/package" --config "$STAGE/full/globalConfig.json" \
  --ta-version "$VERSION" --pip-version 25.3 --python-binary-name "$LIB_PYTHON" --pip-custom-flag="$PIP_FLAGS" \
  -o "$OUT/output" > "$OUT/build/ucc-full.log" 2>&1 || { tail -40 "$OUT/build/ucc-full.log"; exit 1; }
rm -f "$OUT"/output/TA_boundaryflow/lib/maxminddb/extension*.so
if find "$OUT/output/TA_boundaryflow/lib" -name '*.so' -o -name '*.pyd' | grep -q .; then
  echo "ERROR: platform-specific binaries in lib/:" >&2
  find "$OUT/output/TA_boundaryflow/lib" -name '*.so' -o -name '*.pyd' >&2; exit 1
fi
echo "==> ucc-gen build (searchtier)"
rm -rf "$OUT/build/searchtier"
"$UCC" build --source "$ST" --config "$STAGE/searchtier/globalConfig.json" --ta-version "$VERSION" -o "$OUT/build/searchtier" \
  > "$OUT/build/ucc-searchtier.log" 2>&1 || { tail -40 "$OUT/build/ucc-searchtier.log"; exit 1; }
# ucc-gen adds a UI-less app's boilerplate only; make sure nothing that collects slipped in.
if [ -d "$OUT/build/searchtier/TA_boundaryflow/bin" ] || [ -d "$OUT/build/searchtier/TA_boundaryflow/lib" ]; then
  echo "ERROR: searchtier build contains bin/ or lib/" >&2; exit 1
fi

echo "==> ucc-gen package"
FULL_TGZ=$OUT/dist/TA_boundaryflow-$VERSION.tar.gz
ST_TGZ=$OUT/dist/TA_boundaryflow-$VERSION-searchtier.tar.gz
rm -f "$FULL_TGZ" "$ST_TGZ"
"$UCC" package --path "$OUT/output/TA_boundaryflow" -o "$OUT/dist" > "$OUT/build/ucc-package.log" 2>&1
mkdir -p "$OUT/build/searchtier-dist" && rm -f "$OUT/build/searchtier-dist"/*
"$UCC" package --path "$OUT/build/searchtier/TA_boundaryflow" -o "$OUT/build/searchtier-dist" >> "$OUT/build/ucc-package.log" 2>&1
mv "$OUT/build/searchtier-dist/TA_boundaryflow-$VERSION.tar.gz" "$ST_TGZ"
ls -l "$FULL_TGZ" "$ST_TGZ"

[ "$RUN_APPINSPECT" = 1 ] || exit 0
venv appinspect python3 "$APPINSPECT_PIN"
AI=$VENVS/appinspect/bin/splunk-appinspect
REPORTS=$OUT/build/appinspect
echo "==> AppInspect (precert) full add-on"
"$AI" inspect "$FULL_TGZ" --mode precert --data-format json --output-file "$REPORTS/full.json" > "$REPORTS/full.log" 2>&1 || true
echo "==> AppInspect (precert, cloud tags) search tier"
"$AI" inspect "$ST_TGZ" --mode precert --included-tags cloud --data-format json --output-file "$REPORTS/searchtier.json" > "$REPORTS/searchtier.log" 2>&1 || true
status=0
# Summarize both reports; fail on any failure/error/future failure except the allowed ones.
"$VENVS/appinspect/bin/python" - "$REPORTS/full.json=$FULL_ALLOWED_FAILURES" "$REPORTS/searchtier.json=" \
  > "$REPORTS/summary.txt" <<'PY' || status=$?
import json, sys
bad = 0
for arg in sys.argv[1:]:
    path, allowed = arg.split("=", 1)
    allowed = set(filter(None, allowed.split(",")))
    try:
        report = json.load(open(path))
    except (OSError, ValueError) as e:
        print("%s: no report (%s)" % (path, e)); bad += 1; continue
    seen = {}
    for r in report.get("reports", []):
        for group in r.get("groups", []):
            for check in group.get("checks", []):
                seen.setdefault(check["result"], []).append(check)
    summary = report.get("summary", {})
    print("%s: %s" % (path, ", ".join("%s=%s" % kv for kv in sorted(summary.items()))))
    if summary.get("future_failure"):
        print("  future failures: %s" % summary["future_failure"]); bad += 1
    for result in ("failure", "error", "manual_check", "warning", "future_failure"):
        for check in seen.get(result, []):
            msgs = sorted({m.get("message", "")[:300] for m in check.get("messages", [])})
            print("  %-14s %s%s" % (result, check["name"], "  (allowed: by design)" if check["name"] in allowed else ""))
            for m in msgs[:5]:
                print("      - " + m.replace("\n", " "))
            if result in ("failure", "error", "future_failure") and check["name"] not in allowed:
                bad += 1
print("UNEXPECTED FAILURES: %d" % bad)
sys.exit(1 if bad else 0)
PY
cat "$REPORTS/summary.txt"
exit $status
