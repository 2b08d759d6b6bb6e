#!/usr/bin/env bash
# Leave-one-out on the real PySpark runs (Tests/PlanningTests/Fixtures/spark):
# for each run and query, fit on the other runs, predict the held-out run's
# batches from its capture, and compare with its real progress.
#   scripts/calibration_holdout.sh [BIN]        (BIN: default .build/release/medallion-sim)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/medallion-sim}
DIR=Tests/PlanningTests/Fixtures/spark
RUNS=$(cd "$DIR" && ls -d */ | tr -d / | sort)
for held in $RUNS; do
  for q in silver gold; do
    fit=()
    for r in $RUNS; do [ "$r" = "$held" ] || fit+=("$DIR/$r/$q.progress.jsonl"); done
    echo "=== $q: fit on ${fit[*]##$DIR/}, held out $held"
    "$BIN" calibrate "${fit[@]}" --query "$q" \
      --predict-capture "$DIR/$held/capture.jsonl.zst" --predict-log "$DIR/$held/$q.progress.jsonl" \
      --trigger 4s --headroom 10s | grep -v '^note:'
  done
done
