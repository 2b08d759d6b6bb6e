#!/usr/bin/env bash
# Real Prometheus tools (promtool, Debian's `prometheus` package) check the
# harness's metrics and its alert verdicts (docs/PROMETHEUS.md):
#   1. the repository's rule file is the design record's rule and promtool accepts it;
#   2. for each scenario below: `run --out` writes metrics.om and a rule test;
#      promtool imports metrics.om into a TSDB (the imported samples are the
#      file's), and `promtool test rules` passes on the harness's verdict;
#   3. the 30 s incident fires and the 60 s fix never does (as the rule tests say);
#   4. one input value changed: promtool must fail, so the check can fail.
# Usage: scripts/promtool-check.sh [path/to/medallion-sim]
set -euo pipefail
cd "$(dirname "$0")/.."
SIM=${1:-.build/release/medallion-sim}
command -v promtool >/dev/null || { echo "promtool missing: run make deps (as root) or apt-get install prometheus" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

promtool check rules monitoring/alerts.yml

# "16m", "1h2m30s" -> seconds
to_seconds() {
  awk -v d="$1" 'BEGIN { s = 0; n = ""
    for (i = 1; i <= length(d); i++) { c = substr(d, i, 1)
      if (c ~ /[0-9]/) { n = n c } else if (c == "h") { s += n * 3600; n = "" }
      else if (c == "m" && substr(d, i + 1, 1) == "s") { s += n / 1000; n = ""; i++ }
      else if (c == "m") { s += n * 60; n = "" } else if (c == "s") { s += n; n = "" } }
    print s }'
}

# The first eval_time whose expected alerts are not empty ("" when none).
first_firing() {
  awk '/eval_time:/ { t = $3 } /exp_alerts:$/ { print t; exit }' "$1"
}

for s in incident-013-silver-binance-30s incident-013-fix-60s incident-013-restart; do
  out="$work/$s"
  # The run's own checks may pass or fail; the files are written either way.
  "$SIM" run "$s" --out "$out" --format json >/dev/null || true
  cmp monitoring/alerts.yml "$out/alerts.yml"
  promtool test rules "$out/alerts.test.yml"
  promtool tsdb create-blocks-from openmetrics "$out/metrics.om" "$out/tsdb" >/dev/null
  mkdir -p "$out/tsdb/wal"  # dump opens the (empty) write-ahead log too
  want=$(grep -c '^k2_silver_batches_behind_total{exchange="binance"}' "$out/metrics.om")
  got=$(promtool tsdb dump --match='k2_silver_batches_behind_total{exchange="binance"}' "$out/tsdb" | grep -c .)
  [ "$want" = "$got" ] || { echo "$s: metrics.om has $want samples of the counter, the TSDB $got" >&2; exit 1; }
  wantLast=$(grep '^k2_silver_batches_behind_total{exchange="binance"}' "$out/metrics.om" | tail -1 | awk '{ print $(NF-1) }')
  gotLast=$(promtool tsdb dump --match='k2_silver_batches_behind_total{exchange="binance"}' "$out/tsdb" | tail -1 | awk '{ print $(NF-1) }')
  [ "$wantLast" = "$gotLast" ] || { echo "$s: last counter value $wantLast in metrics.om, $gotLast in the TSDB" >&2; exit 1; }
  echo "$s: promtool test rules passed; TSDB holds the counter's $got samples; alert first fires at: $(first_firing "$out/alerts.test.yml")"
done

fired30=$(first_firing "$work/incident-013-silver-binance-30s/alerts.test.yml")
[ -n "$fired30" ] || { echo "incident-013-silver-binance-30s: the alert never fires" >&2; exit 1; }
[ -z "$(first_firing "$work/incident-013-fix-60s/alerts.test.yml")" ] || { echo "incident-013-fix-60s: the alert fires" >&2; exit 1; }

# Tamper: the sample scraped at the minute the alert first fires becomes 0, so
# the expression does not hold then; promtool must now fail the test.
t30="$work/incident-013-silver-binance-30s/alerts.test.yml"
interval=$(to_seconds "$(awk '/- interval:/ { print $3; exit }' "$t30")")
index=$(( $(to_seconds "$fired30") / interval + 1 ))
awk -v k="$index" '/^ *values: / { sub(/^ *values: '\''/, ""); sub(/'\''$/, ""); n = split($0, v, " "); v[k] = "0"
    line = v[1]; for (i = 2; i <= n; i++) line = line " " v[i]; print "        values: '\''" line "'\''"; next } { print }' \
  "$t30" > "$work/incident-013-silver-binance-30s/tampered.test.yml"
! cmp -s "$t30" "$work/incident-013-silver-binance-30s/tampered.test.yml" || { echo "tampering changed nothing" >&2; exit 1; }
if promtool test rules "$work/incident-013-silver-binance-30s/tampered.test.yml" >"$work/tampered.log" 2>&1; then
  echo "promtool accepted a tampered series: the check cannot fail" >&2; exit 1
fi
grep -q "time: $fired30" "$work/tampered.log" || { echo "promtool failed the tampered test, but not at $fired30:" >&2; cat "$work/tampered.log" >&2; exit 1; }
echo "tampered series (value $index set to 0): promtool test rules fails at $fired30, as it must"
echo "promtool-check: 4 passed, 0 failed"
