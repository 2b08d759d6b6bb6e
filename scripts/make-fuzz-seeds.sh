#!/usr/bin/env bash
# Writes the small seed corpora of Fuzz/corpus/ (checked in; rerun only to
# refresh them): payloads and captures recorded from two short scenarios by
# the release binary, the fastavro-written fixture capture, the scenario and
# profile files, and a golden summary with a few table rows. Needs python3
# and the zstd command.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${BIN:-.build/release/medallion-sim}
[ -x "$bin" ] || { echo "build first: swift build -c release --product medallion-sim" >&2; exit 2; }
out=Fuzz/corpus
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
rm -rf "$out"; mkdir -p "$out"/{payload,capture-jsonl,capture-compact,scenario,profile,golden}

short=(--set duration=2m --set drain=1m --set exchanges.binance.rate_multiplier=0.01 --set exchanges.kraken.rate_multiplier=0.1)
"$bin" record malformed-avro --set duration=12m --set drain=1m --set exchanges.binance.rate_multiplier=0.01 --set exchanges.kraken.rate_multiplier=0.1 --capture "$work/malformed.jsonl" >/dev/null
"$bin" record baseline "${short[@]}" --capture "$work/baseline.mcap" --compact >/dev/null

# Payloads: one per distinct (length, first 6 bytes) from both captures, at most 48.
python3 - "$work/malformed.jsonl" Tests/ReplayTests/Fixtures/independent-capture.jsonl "$out/payload" <<'PY'
import base64, json, sys, hashlib
seen, n = set(), 0
for path in sys.argv[1:3]:
    for line in open(path):
        m = json.loads(line)
        if m.get("type") != "message" or not m.get("value_b64"): continue
        v = base64.b64decode(m["value_b64"])
        k = (len(v) // 16, v[:6])
        if k in seen or n >= 48: continue
        seen.add(k); n += 1
        open(f"{sys.argv[3]}/{hashlib.sha1(v).hexdigest()[:16]}", "wb").write(v)
PY

# JSON Lines captures: the fixture, and the first 12 lines of the recording.
cp Tests/ReplayTests/Fixtures/independent-capture.jsonl "$out/capture-jsonl/fixture.jsonl"
head -12 "$work/malformed.jsonl" > "$out/capture-jsonl/recorded.jsonl"

# Compact capture: decompressed, without the 8-byte magic (the target adds it).
{ zstd -q -d -c "$work/baseline.mcap" | tail -c +9 | head -c 16384 > "$out/capture-compact/baseline-head"; } || true
zstd -q -d -c "$work/baseline.mcap" | tail -c +9 > "$work/full"
[ "$(stat -c %s "$work/full")" -le 65536 ] && cp "$work/full" "$out/capture-compact/baseline-full"

# Scenarios (one with --set lines) and profiles.
for f in scenarios/*.yaml; do cp "$f" "$out/scenario/$(basename "$f")"; done
{ cat scenarios/late-data.yaml; echo "--set jobs.gold.trigger=30s"; echo "--set exchanges.binance.rate_multiplier=2"; } > "$out/scenario/with-set"
for f in scenarios/profiles/*.yaml; do cp "$f" "$out/profile/$(basename "$f")"; done

# Golden: a summary, NUL, then a zstd table of three rows (and one uncompressed).
{ zstd -q -d -c golden/late-data/tables/gold_crypto_trades.jsonl.zst | head -3 > "$work/rows"; } || true
{ cat golden/late-data/summary.json; printf '\0'; zstd -q -c "$work/rows"; } > "$out/golden/summary-and-table"
{ printf '{}\0'; cat "$work/rows"; } > "$out/golden/rows-plain"
du -sh "$out"
