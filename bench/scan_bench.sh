#!/usr/bin/env bash
# Scan offload benchmark: a filtered projection scan (TPC-H Q6's WHERE, its two
# columns summed by SQLite, so every matching row crosses the vtab) of the SF 1
# lineitem split into 8 files, run by a plain `parquet` table and by the same
# table with executor=local workers=2 (split_bytes default, 64 MiB). Each run is
# a fresh sqlite3 process under /usr/bin/time: wall seconds, user+sys CPU
# seconds, peak RSS; best of BENCH_REPS (3) by wall time. The offloaded run's
# hbee_last_stats (tasks, rows and bytes shipped) is printed too. Prints a
# markdown table for bench/RESULTS.md; not a timed test.
#
#   bench/scan_bench.sh                    # after `make all` (build/buzzlite.so)
#   BENCH_REPS=5 bench/scan_bench.sh --build build-x
set -euo pipefail
cd "$(dirname "$0")/.."
B=build
while (($#)); do
    case $1 in
    --build) B=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR]" >&2; exit 2 ;;
    esac
done
REPS=${BENCH_REPS:-3}
SPLIT=bench/data/lineitem_sf1_split8
[ -f "$SPLIT/part-007.parquet" ] || node bench/gen_lineitem.mjs --sf 1 --split 8 --out bench/data >&2
Q="SELECT count(*), sum(l_extendedprice * l_discount) FROM t WHERE l_shipdate >= '1994-01-01'
   AND l_shipdate < '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24;"
run() { # $1 label, $2 table options
    local best="" line
    for ((i = 0; i < REPS; i++)); do
        line=$( { /usr/bin/time -f '%e %U %S %M' sqlite3 -cmd ".load $B/buzzlite" :memory: \
            "CREATE VIRTUAL TABLE t USING parquet('$SPLIT/*.parquet'$2);" "$Q" \
            "SELECT hbee_last_stats();" >/tmp/scan_bench.$$ ; } 2>&1 | tail -n 1)
        if [ -z "$best" ] || awk -v a="$line" -v b="$best" 'BEGIN{split(a,x," ");split(b,y," ");exit !(x[1]<y[1])}'; then
            best=$line
            cp /tmp/scan_bench.$$ /tmp/scan_bench.best.$$
        fi
    done
    read -r wall usr sys rss <<<"$best"
    printf '| %s | %s | %.2f | %d | %s |\n' "$1" "$wall" "$(awk -v u="$usr" -v s="$sys" 'BEGIN{print u + s}')" \
        "$((rss / 1024))" "$(head -n 1 /tmp/scan_bench.best.$$ | sed 's/|/, /g')"
    sed -n 2p /tmp/scan_bench.best.$$ >&2
    rm -f /tmp/scan_bench.$$ /tmp/scan_bench.best.$$
}
echo "Load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; best of $REPS"
echo
echo "| run | wall s | CPU s (user+sys) | peak RSS MiB | result |"
echo "| --- | --- | --- | --- | --- |"
run "plain parquet table" ""
run "executor=local, workers=2" ", executor=local, workers=2"
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
