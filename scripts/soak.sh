#!/usr/bin/env bash
# Long reliability runs (issue 7), called by ./build.sh soak (which set up .venv and PATH).
#   1. atheris coverage-guided fuzzing: >= 1M inputs per decoder (v5, v9, IPFIX, sFlow) and for
#      Pipeline.handle_datagram, with a 2 GiB RSS limit (tests/fuzz/fuzz_*.py)
#   2. a 10-minute soak of a live collector at 70% of its measured maximum rate: nothing lost, flat RSS
#      (tests/fuzz/soak_collector.py; RSS samples in the report)
#   3. the fault, overload, time and hostile-input tests at 10x their CI size (BF_RELIABILITY_SCALE=10)
# Options (environment): FUZZ_RUNS (default 1000000), SOAK_MINUTES (10), SOAK_LOAD (0.7), SKIP_FUZZ=1,
# SKIP_SOAK=1, SKIP_FAULTS=1. Results: build/soak/ (logs, soak.json, summary.txt). Exit 1 if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=build/soak
mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt
: > "$SUMMARY"
failed=0
note() { echo "$*" | tee -a "$SUMMARY"; }

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  runs=${FUZZ_RUNS:-1000000}
  for h in netflow5 netflow9 ipfix sflow pipeline; do
    corpus=$OUT/corpus_$h
    mkdir -p "$corpus"
    start=$(date +%s)
    "$PY" tests/fuzz/fuzz_$h.py -runs="$runs" -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
      -artifact_prefix="$OUT/$h-" "$corpus" > "$OUT/fuzz_$h.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    done_line=$(grep -E "^Done [0-9]+ runs" "$OUT/fuzz_$h.log" | tail -1)
    rss=$(grep -E "stat::peak_rss_mb" "$OUT/fuzz_$h.log" | tail -1 | awk '{print $2}')
    cov=$(grep -E "^#[0-9]+[[:space:]]+(DONE|pulse|NEW)" "$OUT/fuzz_$h.log" | tail -1 | grep -oE "cov: [0-9]+")
    if [ $rc -eq 0 ]; then
      note "fuzz $h: OK - ${done_line:-?} (${secs}s, $cov, peak RSS ${rss:-?} MB)"
    else
      failed=1
      crash=$(ls "$OUT/$h-"crash-* 2>/dev/null | head -1)
      err=$(grep -E "^[A-Za-z]*Error" "$OUT/fuzz_$h.log" | tail -1)
      execs=$(grep -oE "^#[0-9]+" "$OUT/fuzz_$h.log" | tail -1)
      note "fuzz $h: FAILED after ${execs:-?} inputs (${secs}s): ${err:-see $OUT/fuzz_$h.log} ${crash:+(input: $crash)}"
    fi
  done
fi

if [ "${SKIP_SOAK:-0}" != 1 ]; then
  "$PY" tests/fuzz/soak_collector.py --minutes "${SOAK_MINUTES:-10}" --load "${SOAK_LOAD:-0.7}" \
    --report "$OUT/soak.json" 2>&1 | tee "$OUT/soak.log"
  if [ "${PIPESTATUS[0]}" -eq 0 ]; then note "soak: OK - $(grep '^soak:' "$OUT/soak.log" | cut -c1-400)"
  else failed=1; note "soak: FAILED - $(grep '^soak:' "$OUT/soak.log" | cut -c1-400)"; fi
  note "$(grep '^rss samples' "$OUT/soak.log")"
fi

if [ "${SKIP_FAULTS:-0}" != 1 ]; then
  BF_RELIABILITY_SCALE=${BF_RELIABILITY_SCALE:-10} "$PY" -m pytest -q -p no:cacheprovider -s -rxX \
    tests/unit/test_reliability_pipeline.py tests/unit/test_reliability_time.py tests/unit/test_reliability_restart.py \
    tests/e2e/test_reliability_faults.py tests/e2e/test_reliability_overload.py \
    tests/e2e/test_reliability_secrets.py tests/e2e/test_reliability_airgap.py tests/e2e/test_reliability_hec.py tests/e2e/test_reliability_hostile.py tests/e2e/test_reliability_tls.py \
    > "$OUT/faults.log" 2>&1
  rc=$?
  grep -E "^(slow stdout|overload|kill -9|secrets|air-gap|HEC outage)" "$OUT/faults.log" | tee -a "$SUMMARY"
  if [ $rc -eq 0 ]; then note "long fault tests: OK - $(tail -1 "$OUT/faults.log")"
  else failed=1; note "long fault tests: FAILED - $(tail -1 "$OUT/faults.log")"; fi
fi

echo "summary: $SUMMARY"
exit $failed
