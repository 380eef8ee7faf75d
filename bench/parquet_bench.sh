#!/usr/bin/env bash
# Parquet benchmark: the same TPC-H-like lineitem file, six queries (count(*),
# sum(l_extendedprice), TPC-H Q6, TPC-H Q1, a point lookup on the sorted l_orderkey,
# SELECT * LIMIT 10), three engines:
#   buzzlite  the parquet virtual table (python3's sqlite3 + build/buzzlite.so)
#   duckdb    DuckDB with 1 thread on the same Parquet file (the oracle, via node)
#   sqlite    SQLite on the same rows in a native table (bench/data/lineitem.db)
# Records wall time (best of BENCH_REPS=3), peak RSS and bytes read (rchar) per query
# and prints a markdown table for bench/RESULTS.md (also saved under bench/data/).
#
#   bench/parquet_bench.sh                       # SF 1 (6,001,215 rows), all engines
#   bench/parquet_bench.sh --sf 0.01             # smoke test
#   bench/parquet_bench.sh --engines duckdb,sqlite --build build
# The data (bench/data/, gitignored) is generated on first use by bench/gen_lineitem.mjs;
# the native table is loaded once through a CSV written by DuckDB.
set -euo pipefail
cd "$(dirname "$0")/.."
SF=1
ENGINES=buzzlite,duckdb,sqlite
B=build
while (($#)); do
    case $1 in
    --sf) SF=$2; shift 2 ;;
    --engines) ENGINES=$2; shift 2 ;;
    --build) B=$2; shift 2 ;;
    *) echo "usage: $0 [--sf SF] [--engines buzzlite,duckdb,sqlite] [--build DIR]" >&2; exit 2 ;;
    esac
done
TAG=${SF//./_}
DATA=bench/data
PARQUET=$DATA/lineitem_sf$TAG.parquet
if [ "$SF" = 1 ]; then DB=$DATA/lineitem.db; else DB=$DATA/lineitem_sf$TAG.db; fi
mkdir -p "$DATA"
[ -f "$PARQUET" ] || node bench/gen_lineitem.mjs --sf "$SF" --out "$DATA" >&2

if [[ ,$ENGINES, == *,sqlite,* ]] && [ ! -f "$DB" ]; then
    echo "loading $DB (once)" >&2
    csv=$DATA/.lineitem_sf$TAG.csv
    cat >"$DATA/.export.mjs" <<JS
import { DuckDBInstance } from '@duckdb/node-api';
const con = await (await DuckDBInstance.create(':memory:')).connect();
await con.run("COPY (SELECT * FROM read_parquet('$PARQUET')) TO '$csv' (FORMAT csv, HEADER false)");
JS
    node "$DATA/.export.mjs"
    rm -f "$DATA/.export.mjs" "$DB.tmp"
    sqlite3 "$DB.tmp" <<SQL
CREATE TABLE lineitem (
    l_orderkey INTEGER, l_partkey INTEGER, l_suppkey INTEGER, l_linenumber INTEGER,
    l_quantity REAL, l_extendedprice REAL, l_discount REAL, l_tax REAL,
    l_returnflag TEXT, l_linestatus TEXT, l_shipdate TEXT, l_commitdate TEXT, l_receiptdate TEXT,
    l_shipinstruct TEXT, l_shipmode TEXT, l_comment TEXT);
.mode csv
.import $csv lineitem
SQL
    rm -f "$csv"
    mv "$DB.tmp" "$DB"
fi

if [[ ,$ENGINES, == *,buzzlite,* ]] && [ ! -f "$B/buzzlite.so" ]; then
    echo "no $B/buzzlite.so: run make first" >&2
    exit 1
fi
# A key in the middle of the file (l_orderkey is sparse: 8 used of every 32).
ROWS=$(python3 -c "print(round(6001215 * $SF))")
KEY=$(python3 -c "i = ($ROWS // 4) // 2 // 8 * 8; print(i // 8 * 32 + 1)")
out=$DATA/parquet_bench_sf$TAG.md
/usr/bin/python3 bench/parquet_bench.py "$PARQUET" "$DB" "$PWD/$B/buzzlite" "$KEY" "$ENGINES" | tee "$out"
echo "(saved to $out)" >&2
