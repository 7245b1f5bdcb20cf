#!/usr/bin/env bash
# Fetch MaxMind's official test databases and corrupt-database samples for the enrichment tests.
# They ship in the maxminddb sdist on PyPI (tests/data/test-data, tests/data/bad-data); we fetch that
# sdist with pip (hash-pinned) and extract only those two folders into .cache/maxmind-test-data/.
# Idempotent: does nothing when the data is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEST=$ROOT/.cache/maxmind-test-data
VERSION=2.8.2
SHA256=26a8e536228d8cc28c5b8f574a571a2704befce3b368ceca593a76d56b6590f9
PY=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=python3

if [ -f "$DEST/.version" ] && [ "$(cat "$DEST/.version")" = "$VERSION" ] \
   && [ -f "$DEST/test-data/GeoIP2-City-Test.mmdb" ]; then
  exit 0
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# A hash-pinned requirement makes pip refuse anything but the exact published sdist.
echo "maxminddb==$VERSION --hash=sha256:$SHA256" > "$TMP/req.txt"
"$PY" -m pip download -q --no-binary :all: --no-deps --require-hashes -r "$TMP/req.txt" -d "$TMP" >&2
tar -xzf "$TMP/maxminddb-$VERSION.tar.gz" -C "$TMP" \
    "maxminddb-$VERSION/tests/data/test-data" "maxminddb-$VERSION/tests/data/bad-data"
rm -rf "$DEST.new"
mkdir -p "$DEST.new"
mv "$TMP/maxminddb-$VERSION/tests/data/test-data" "$TMP/maxminddb-$VERSION/tests/data/bad-data" "$DEST.new/"
echo "$VERSION" > "$DEST.new/.version"
rm -rf "$DEST"
mv "$DEST.new" "$DEST"
echo "MaxMind test data $VERSION -> $DEST" >&2
