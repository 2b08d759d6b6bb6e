#!/usr/bin/env bash
# Fails when code or docs point outside the repository: to the reference
# files the project was built from (which a clone does not have) instead of
# docs/REFERENCE.md, docs/AVRO-LIBRARY.md and the other pages under docs/.
# Run by Tests/CLITests/SelfContainedTests.swift (so by `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."
# Spelled in pieces so this file does not match itself.
patterns=(
  "SPEC"" §"
  "LIBAVRO"".md"
  "\.\./"shared
  "/work/"shared
  "/work/"notes
)
args=()
for p in "${patterns[@]}"; do args+=(-e "$p"); done
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files -- ':!golden' ':!*.zst')
else
  files=$(find . -type f -not -path './.build*' -not -path './golden/*' -not -path './.git/*' -not -name '*.zst')
fi
# shellcheck disable=SC2086
if hits=$(printf '%s\n' $files | xargs grep -n -I "${args[@]}" 2>/dev/null); then
  echo "references to files outside the repository (point them at docs/ instead):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "self-contained: no reference points outside the repository"
