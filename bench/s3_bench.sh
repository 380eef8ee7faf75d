#!/usr/bin/env bash
# S3 benchmark: the SF 1 lineitem of the Parquet benchmark, uploaded to s3rver
# (loopback) with s3_put, then sum(l_extendedprice), TPC-H Q6, a point lookup and
# SELECT * LIMIT 10 over `parquet('s3://...')`, each in a fresh process: bytes
# fetched and requests (s3_stats(), parquet_stats()) against the minimum computed
# from the file's metadata; and the whole-object download rate of s3_get against
# curl on the same server. Driver: bench/s3_bench.py (what is measured, how the
# minimum is computed). Prints a markdown table for bench/RESULTS.md (also saved
# to bench/data/s3_bench.md).
#
#   bench/s3_bench.sh                    # after `make`; data from bench/parquet_bench.sh
#   bench/s3_bench.sh --build build-x --file bench/data/lineitem_sf0_01.parquet
#
# The s3rver stack runs in its own temporary BZ_STACK_DIR and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build
FILE=bench/data/lineitem_sf1.parquet
while (($#)); do
    case $1 in
    --build) B=$2; shift 2 ;;
    --file) FILE=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--file PARQUET]" >&2; exit 2 ;;
    esac
done
[ -f "$B/buzzlite.so" ] || { echo "no $B/buzzlite.so: run make first" >&2; exit 1; }
[ -f "$FILE" ] || { echo "no $FILE: run bench/parquet_bench.sh (or node bench/gen_lineitem.mjs) first" >&2; exit 1; }
B=$(cd "$B" && pwd)

export BZ_STACK_DIR
BZ_STACK_DIR=$(mktemp -d /tmp/bz-s3-bench.XXXXXX)
export BZ_STACK_SERVICES=s3
cleanup() {
    tests/stack.sh down >/dev/null 2>&1 || true
    rm -rf "$BZ_STACK_DIR"
}
trap cleanup EXIT
tests/stack.sh up >&2
eval "$(tests/stack.sh env)"
# s3rver keeps objects on disk under the stack dir and accepts any signature.
sqlite3 -cmd ".load $B/buzzlite" :memory: "SELECT 1 FROM s3_list('s3://$BZ_S3_BUCKET/') LIMIT 0" >/dev/null

# A key in the middle of the file, as in bench/parquet_bench.sh.
ROWS=$(sqlite3 -cmd ".load $B/buzzlite" :memory: "SELECT sum(num_rows) FROM parquet_metadata('$FILE') WHERE column_id = 0")
KEY=$(python3 -c "i = ($ROWS // 4) // 2 // 8 * 8; print(i // 8 * 32 + 1)")
mkdir -p bench/data
out=bench/data/s3_bench.md
/usr/bin/python3 bench/s3_bench.py "$FILE" "$B/buzzlite" "s3://$BZ_S3_BUCKET/$(basename "$FILE")" "$KEY" | tee "$out"
echo "(saved to $out)" >&2
