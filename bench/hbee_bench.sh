#!/usr/bin/env bash
# hbee benchmark: TPC-H Q1 and Q6 on the SF 1 lineitem split into 8 files, run by a
# plain single-connection scan, hbee's local executor (1 and 2 threads), the redis
# executor (1 and 2 `hbee worker` processes), the lambda executor on the Lambda
# emulator (2 instances) and DuckDB (2 threads); plus hbee's cold start and the peak
# RSS of `hbee run` on one split. Prints a markdown report for bench/RESULTS.md
# (### hbee), also saved as bench/data/hbee_bench.md. Not a timed test.
#
#   bench/hbee_bench.sh                    # after `make all unit` (build/buzzlite.so, build/hbee)
#   bench/hbee_bench.sh --build build-hb2
#   BENCH_REPS=5 BENCH_COLD_REPS=100 bench/hbee_bench.sh
# Data (bench/data/, gitignored) is generated on first use by
# `node bench/gen_lineitem.mjs --sf 1 --split 8`. Redis comes from tests/stack.sh
# (service redis only) in its own state dir ($BZ_STACK_DIR, default
# /tmp/hbee-bench-stack), stopped at the end; workers and emulators are started
# by the driver (bench/hbee_bench.py).
set -euo pipefail
cd "$(dirname "$0")/.."
B=build
while (($#)); do
    case $1 in
    --build) B=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR]" >&2; exit 2 ;;
    esac
done
DATA=bench/data
SPLIT=$DATA/lineitem_sf1_split8
[ -f "$SPLIT/part-007.parquet" ] || node bench/gen_lineitem.mjs --sf 1 --split 8 --out "$DATA" >&2
for f in "$B/buzzlite.so" "$B/hbee"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "no $f: run make B=$B all unit first" >&2; exit 1; }
done
export BZ_STACK_DIR=${BZ_STACK_DIR:-/tmp/hbee-bench-stack} BZ_STACK_SERVICES=redis
tests/stack.sh up >&2
trap 'tests/stack.sh down >&2' EXIT
eval "$(tests/stack.sh env)"
out=$DATA/hbee_bench.md
/usr/bin/python3 bench/hbee_bench.py "$PWD/$SPLIT/*.parquet" "$PWD/$B" "$REDIS_URL" | tee "$out"
echo "(saved to $out)" >&2
