#!/usr/bin/env bash
# Installs libavro-dev, libzstd-dev, zlib1g-dev, libsqlite3-dev (the SQLite
# export), pkg-config, prometheus (for promtool, which checks the harness's
# metrics and alert verdicts) and sqlite3 (the command-line tool the SQL tests
# run the design record's queries with) when they are missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
set -euo pipefail
missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
if command -v pkg-config >/dev/null 2>&1; then
  pkg-config --exists avro-c || missing+=(libavro-dev)
  pkg-config --exists libzstd || missing+=(libzstd-dev)
  pkg-config --exists zlib || missing+=(zlib1g-dev)
  pkg-config --exists sqlite3 || missing+=(libsqlite3-dev)
else
  missing+=(libavro-dev libzstd-dev zlib1g-dev libsqlite3-dev)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get update && apt-get install -y ${missing[*]}"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing system packages: ${missing[*]}" >&2
  echo "run: sudo sh -c '$cmd'" >&2
  exit 2
fi
