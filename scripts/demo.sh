#!/usr/bin/env bash
# `make demo`: the sample job. Loads the extension from the build directory given
# as $1 (default: build), then runs sql/parquet_tour.sql over the sample dataset in
# data/ (regenerate it with `node tests/tools/gen_sample.mjs`): schema and
# metadata inspection, a LIMIT preview, TPC-H Q1 and Q6 on a lineitem sample, a
# hive-partition-pruned aggregate and nested fields through JSON.
# Exits non-zero on the first error (sqlite3 -bail).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
EXT=./$B/buzzlite
if [ ! -f "$EXT.so" ]; then
    echo "demo: $EXT.so not found (run make first)" >&2
    exit 1
fi
for f in data/lineitem.parquet data/trips; do
    [ -e "$f" ] || { echo "demo: $f is missing (node tests/tools/gen_sample.mjs writes it)" >&2; exit 1; }
done
echo "buzzlite demo: $(sqlite3 -batch :memory: -cmd ".load $EXT" 'SELECT buzzlite_version()' 2>&1) on SQLite $(sqlite3 -version | cut -d' ' -f1)"
echo "running sql/parquet_tour.sql over data/ ($(du -sh data | cut -f1) of Parquet)"
echo
t0=$(date +%s%N)
sqlite3 -bail -batch -box :memory: -cmd ".load $EXT" <sql/parquet_tour.sql
t1=$(date +%s%N)
echo
echo "demo finished in $(((t1 - t0) / 1000000)) ms"
