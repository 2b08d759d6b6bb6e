#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (release, -sanitize=fuzzer,address,
# into .build-fuzz) and runs each for SECONDS (default 600), one after the
# other, from its checked-in seed corpus (Fuzz/corpus/<target>, copied into
# .build-fuzz/corpus so the repository's stays small). A crash, a timeout
# (an input taking > 2 s) or an out-of-memory (> 2 GiB) fails the run; the
# reproducer is left in .build-fuzz/artifacts/<target>/. One line per target:
# executions, executions/s, coverage, features and corpus size.
#
#   scripts/fuzz.sh [SECONDS] [TARGET ...]    targets: payload capture-jsonl
#                                             capture-compact scenario profile golden
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-600}; shift || true
all=(payload capture-jsonl capture-compact scenario profile golden)
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
build=.build-fuzz
export SWIFT_BACKTRACE=enable=no   # let libFuzzer report the crash itself
# Leak checking is off: LeakSanitizer reports the objects of Swift's lazily
# initialised globals (the targets' decoder and registry) as leaked. Unbounded
# growth still fails the run through -rss_limit_mb and -malloc_limit_mb.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

for t in "${targets[@]}"; do
  case " ${all[*]} " in *" $t "*) ;; *) echo "fuzz: unknown target '$t' (one of: ${all[*]})" >&2; exit 2;; esac
done

# The products are named fuzz-<target without dashes>.
product() { echo "fuzz-${1//-/}"; }
if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ]; then
  for t in "${targets[@]}"; do
    MEDALLION_FUZZ=1 swift build -c release --build-path "$build" \
      -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
      --product "$(product "$t")" 2>&1 | grep -Ev 'warning: Cannot export local symbol|^\[' || true
    [ -x "$build/release/$(product "$t")" ] || { echo "fuzz: building $(product "$t") failed" >&2; exit 2; }
  done
fi

status=0
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"; artifacts="$build/artifacts/$t"; log="$build/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  cp -n Fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  dict=(); [ -f "Fuzz/dict/$t.dict" ] && dict=(-dict="Fuzz/dict/$t.dict")
  set +e
  "$build/release/$(product "$t")" "$corpus" "${dict[@]}" \
    -max_total_time="$seconds" -timeout=2 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -max_len=65536 -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  last=$(grep -E '#[0-9]+.*(cov|ft):' "$log" | tail -1)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || echo "?")
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || echo "?")
  files=$(ls "$corpus" | wc -l)
  if [ $rc -eq 0 ]; then
    echo "fuzz $t: ok, ${seconds}s, $execs executions ($rate/s), cov $cov, ft $ft, corpus $files files"
  else
    echo "fuzz $t: FAILED (exit $rc) after $execs executions; see $log and $artifacts/" >&2
    grep -E 'ERROR|Fatal error|panic|timeout|out-of-memory|SUMMARY' "$log" | head -5 >&2
    status=1
  fi
done
exit $status
