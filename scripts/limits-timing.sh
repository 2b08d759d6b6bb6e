#!/usr/bin/env bash
# Times the release binary refusing an absurd value of each scenario key
# (through --set on run, check and whatif): every command must exit 2, and
# the slowest time is printed. Used for the figure in docs/RELIABILITY.md.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=.build/release/medallion-sim
[ -x "$bin" ] || { echo "build first: swift build -c release --product medallion-sim" >&2; exit 2; }
sets=(duration=999999d drain=999999d start=1900-01-01T00:00:00Z exchanges.binance.rate_multiplier=1000
      exchanges.kraken.partitions=100000 exchanges.binance.delivery_latency_median=999999d jobs.gold.trigger=999999d
      jobs.gold.cores=1000000 expect.min_headroom.gold=999999d expect.min_late_dropped=99999999999
      'faults=[{kind: spike, exchange: binance, at: 1m, for: 1m, multiplier: 100000}]')
worst=0; n=0; bad=0
for s in "${sets[@]}"; do
  for cmd in "run baseline" "check baseline" "whatif baseline --sweep jobs.silver_binance.trigger=30s,60s"; do
    start=$(date +%s%N)
    $bin $cmd --set "$s" >/dev/null 2>&1; rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    n=$((n + 1)); [ "$rc" = 2 ] || { echo "not exit 2 ($rc): $cmd --set $s" >&2; bad=1; }
    [ "$ms" -gt "$worst" ] && worst=$ms
  done
done
echo "limits: $n refusals, all exit 2: $([ $bad = 0 ] && echo yes || echo NO); slowest ${worst} ms"
exit $bad
