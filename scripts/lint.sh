#!/usr/bin/env bash
# Code hygiene: ruff (ruff.toml) and bandit (.bandit) over the engine and the add-on's scripts.
# Fails on any ruff finding and on any HIGH severity bandit finding (lower ones are printed).
# Also run from the test suite by tests/unit/test_code_hygiene.py.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV_BIN:-.venv/bin}
TARGETS=(package/bin/boundaryflow package/bin/*.py)
rc=0
echo "==> ruff check"
"$BIN/ruff" check --config ruff.toml "${TARGETS[@]}" || rc=1
echo "==> bandit (all severities shown; HIGH fails)"
"$BIN/bandit" --ini .bandit -q -r "${TARGETS[@]}" || true
"$BIN/bandit" --ini .bandit -q -r --severity-level high "${TARGETS[@]}" >/dev/null || { echo "bandit: HIGH severity findings" >&2; rc=1; }
exit $rc
