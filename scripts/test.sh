#!/usr/bin/env bash
# Every test, by layer. Called by ./build.sh test (which set up .venv and PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pytest -q -p no:cacheprovider tests "$@"
