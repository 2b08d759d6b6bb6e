#!/usr/bin/env bash
# Determinism check (docs/REFERENCE.md §7): runs every scenario twice with the release
# binary — once from the repository in the machine's settings, once from
# another working directory under another time zone and locale — and requires
# byte-identical summaries and tables. Exits 1 on any difference.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.build/release/medallion-sim"
[ -x "$bin" ] || { echo "build first: swift build -c release --product medallion-sim" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/a" "$work/b" "$work/elsewhere"

# `run` exits 1 when a check fails; that is `check`'s business, not this script's.
run_ok() { "$@" >/dev/null || [ $? -eq 1 ]; }

# A locale that differs from the machine's in every way that can bite: Turkish
# (dotless i casing, comma decimal separator). Generated if the machine lacks it.
alt_locale=tr_TR.UTF-8
if ! locale -a 2>/dev/null | grep -qi '^tr_TR\.utf-\?8$'; then
  if command -v localedef >/dev/null && [ -f /usr/share/i18n/locales/tr_TR ] && [ "$(id -u)" = 0 ]; then
    localedef -i tr_TR -f UTF-8 tr_TR.UTF-8
  else
    echo "determinism: cannot install the tr_TR.UTF-8 locale (needs root and Debian's 'locales' package); using C.UTF-8" >&2
    alt_locale=C.UTF-8
  fi
fi

n=0
for f in "$root"/scenarios/*.yaml; do
  name=$(basename "$f" .yaml)
  (cd "$root" && run_ok "$bin" run "scenarios/$name.yaml" --out "$work/a/$name") &
  (cd "$work/elsewhere" && TZ=Pacific/Chatham LANG=$alt_locale LC_ALL=$alt_locale \
     run_ok "$bin" run "$f" --profiles "$root/scenarios/profiles" --out "$work/b/$name") &
  wait
  n=$((n + 1))
done
if diff -r "$work/a" "$work/b" >"$work/diff.txt"; then
  files=$(find "$work/a" -type f | wc -l)
  echo "determinism: $n scenarios, $files files byte-identical across time zone (Pacific/Chatham), locale ($alt_locale) and working directory"
else
  echo "determinism: outputs differ:" >&2
  head -50 "$work/diff.txt" >&2
  exit 1
fi
