"""Parquet conformance: every file of the shared parquet-testing corpus through the
`parquet` virtual table, compared with what DuckDB 1.5 read from it.

For each $BZ_SHARED/parquet-testing/{data,bad_data}/**/*.parquet and every
*.parquet.encrypted file, in a child process (so a crash or a hang is a reported
failure, not the end of the run; 30 s timeout):

  expected/<dir>/NAME.expected.jsonl   SELECT * FROM t must give the same column
                                       names, the same row count and, for the first
                                       1000 rows, the same values (bzlib.compare:
                                       values per DuckDB type, not spellings).
  expected/<dir>/NAME.expected-error.txt
      under bad_data/, or *.encrypted: a clean sqlite3 error whose message names the
                                       file; never a crash, a hang or success.
      under data/: valid files DuckDB 1.5 cannot read; checked against the upstream
                                       descriptions (*.md, reader tests), see SPECIAL.
  bad_data files that DuckDB did read (ARROW-GH-43605, ARROW-GH-45185,
  ARROW-RS-GH-6229-LEVELS): either a clean error naming the file or DuckDB's result.
  delta_*_expect.csv: the full contents of the delta-encoded files, all rows.

Prints one line per file and exits 1 if any failed. There is no list of known
failures: a file the extension does not read yet is a FAIL.
Under ASan (BZ_SAN=1) large_string_map.brotli.parquet is skipped, and said so.
Run: tests/run.sh build python/test_conformance  (or BZ_EXT=... /usr/bin/python3 this)
"""

import csv
import glob
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bzlib  # noqa: E402

E = bzlib.env()
PT = os.path.join(E["shared"], "parquet-testing")
EXPECTED = os.path.join(PT, "expected")
TIMEOUT = 30.0
MAX_ROWS_COMPARED = 1000
GIB = 1 << 30

results = []  # (rel, ok, message)


def report(rel, ok, msg="ok"):
    results.append((rel, ok, msg))
    print(f"{'ok  ' if ok else 'FAIL'} {rel}" + ("" if ok and msg == "ok" else f": {msg}"), flush=True)


def p(rel):
    return os.path.join(PT, rel)


def run(rel, **kw):
    kw.setdefault("timeout", TIMEOUT)
    return bzlib.run_isolated([p(rel)], **kw)


def check_rows(rel, res, header, exp_rows, opts=None):
    """Reasons why res (an Isolated) differs from a DuckDB-style expectation."""
    if res.status != "ok":
        return [res.describe()]
    names = [c["name"] for c in header["columns"]]
    if res.columns != names:
        return [f"columns {res.columns} != expected {names}"]
    why = []
    if res.nrows != header["rows"]:
        why.append(f"{res.nrows} rows, expected {header['rows']}")
    types = [bzlib.parse_type(c["type"]) for c in header["columns"]]
    n = min(MAX_ROWS_COMPARED, len(exp_rows))
    why += bzlib.compare_rows(types, names, exp_rows[:n], res.rows[:n], opts)
    return why


def expect_error(rel, why_bad):
    res = run(rel)
    base = os.path.basename(rel)
    if res.status == "ok":
        report(rel, False, f"read without error ({res.nrows} rows); expected an error: {why_bad}")
    elif res.status != "error":
        report(rel, False, res.describe())
    elif base not in res.error:
        report(rel, False, f"error does not name the file: {res.error}")
    else:
        report(rel, True, f"error as expected: {res.error[:150]}")


def expect_match(rel, header, rows, overrides=None):
    res = run(rel)
    if overrides:
        rows = [dict(r) for r in rows]
        for (i, col), v in overrides.items():
            rows[i][col] = v
    why = check_rows(rel, res, header, rows)
    report(rel, not why, "; ".join(why) if why else "ok")
    return res


def expect_error_or_match(rel, header, rows):
    """bad_data files DuckDB read: a clean error naming the file, or DuckDB's result."""
    res = run(rel)
    if res.status == "error" and os.path.basename(rel) in res.error:
        report(rel, True, f"error (accepted for bad_data): {res.error[:150]}")
        return
    why = check_rows(rel, res, header, rows)
    report(rel, not why, ("; ".join(why) + " (a clean error naming the file is accepted too)")
           if why else "read like DuckDB (accepted for bad_data)")


# ---------------------------------------------------------------------------
# Valid files DuckDB 1.5 could not read. Content from the upstream descriptions.
# ---------------------------------------------------------------------------

def load(rel_expected):
    return bzlib.read_expected_jsonl(os.path.join(EXPECTED, rel_expected))


def special_lz4(rel):
    # Hadoop-framed and "non-Hadoop" legacy LZ4: the same 4 rows as
    # lz4_raw_compressed.parquet (Arrow's reader_test.cc TestCodec cases check both
    # against the same values: c0 1593604800.., c1 abc/def, v11 42.0/7.7/42.125/7.7).
    header, rows = load("data/lz4_raw_compressed.expected.jsonl")
    expect_match(rel, header, rows)


def special_lz4_larger(rel):
    # Same 10000 strings as lz4_raw_compressed_larger.parquet; Arrow's reader tests
    # check the first two and last two; the sha256 of all values, each followed by a
    # newline, was computed with DuckDB 1.5 from lz4_raw_compressed_larger.parquet.
    header, rows = load("data/lz4_raw_compressed_larger.expected.jsonl")
    res = run(rel)
    why = check_rows(rel, res, header, rows)
    if res.status == "ok" and res.nrows == 10000 and not why:
        vals = [r[0] for r in res.rows]
        if vals[-2:] != ["ab52a0cc-c6bb-4d61-8a8f-166dc4b8b13c", "85440778-460a-41ac-aa2e-ac3ee41696bf"]:
            why.append(f"last values {vals[-2:]}")
        h = hashlib.sha256("".join(v + "\n" for v in vals).encode()).hexdigest()
        if h != "b5e0165eb228bae9d5102e1fefa9d135f58f09b82c3bfe5afb7f7e196aca5c2a":
            why.append(f"sha256 of all 10000 values differs ({h})")
    report(rel, not why, "; ".join(why) if why else "ok")


def special_bss_extended(rel):
    # 7 pairs of columns with the same 200 values, one PLAIN and one BYTE_STREAM_SPLIT
    # (data/README.md). The pairs must be equal; the PLAIN halves are checked with
    # aggregates computed by DuckDB 1.5 reading only the PLAIN columns.
    names = ["float16_plain", "float16_byte_stream_split", "float_plain", "float_byte_stream_split",
             "double_plain", "double_byte_stream_split", "int32_plain", "int32_byte_stream_split",
             "int64_plain", "int64_byte_stream_split", "flba5_plain", "flba5_byte_stream_split",
             "decimal_plain", "decimal_byte_stream_split"]
    types = {"float16": "FLOAT", "float": "FLOAT", "double": "DOUBLE", "int32": "INTEGER",
             "int64": "BIGINT", "flba5": "BLOB", "decimal": "DECIMAL(7,3)"}
    # column: (count, sum, min, max)
    agg = {"float16_plain": (200, 1993.8515625, 7.8671875, 12.9140625),
           "float_plain": (200, 2004.015525817871, 7.4333415031433105, 12.905067443847656),
           "double_plain": (200, 1986.3753994256135, 7.035471162158348, 12.597673726595833),
           "int32_plain": (200, 10196225, 153, 99874),
           "int64_plain": (200, 91052197000000, 1233000000, 995183000000),
           "decimal_plain": (200, 200899.835, 635.159, 1280.921)}
    flba5_sha = "a5cda77b1a1736715431a6f44ad22a40663b592a4da8ac3d91855c7d83722be2"
    res = run(rel)
    why = []
    if res.status != "ok":
        why.append(res.describe())
    elif res.columns != names:
        why.append(f"columns {res.columns} != {names}")
    elif res.nrows != 200:
        why.append(f"{res.nrows} rows, expected 200")
    else:
        cols = {n: [r[i] for r in res.rows] for i, n in enumerate(names)}
        for n in names[::2]:
            kind = n[: -len("_plain")]
            t = bzlib.parse_type(types[kind])
            bss = kind + "_byte_stream_split"
            for i, (a, b) in enumerate(zip(cols[n], cols[bss])):
                try:
                    ca, cb = bzlib.canon(t, a, "got"), bzlib.canon(t, b, "got")
                except bzlib.Mismatch as e:
                    why.append(f"row {i} {n}/{bss}: {e}")
                    break
                r = bzlib.eq(ca, cb)
                if r:
                    why.append(f"row {i}: {n} != {bss}: {r}")
                    break
            vals = [v for v in cols[n] if v is not None]
            if n in agg:
                cnt, s, lo, hi = agg[n]
                got = (len(vals), sum(vals) if vals else None, min(vals, default=None), max(vals, default=None))
                if got[0] != cnt or any(g is None or not bzlib._close(float(g), float(e)) for g, e in zip(got[1:], (s, lo, hi))):
                    why.append(f"{n}: count/sum/min/max {got} != {(cnt, s, lo, hi)}")
            elif n == "flba5_plain":
                if any(not isinstance(v, bytes) or len(v) != 5 for v in vals):
                    why.append("flba5_plain must be 5-byte BLOBs")
                h = hashlib.sha256("".join((v.hex().upper() if v is not None else "") + "\n"
                                           for v in cols[n]).encode()).hexdigest()
                if h != flba5_sha:
                    why.append(f"flba5_plain sha256 {h} differs")
    report(rel, not why, "; ".join(why[:4]) if why else "ok")


def special_map_no_value(rel):
    # map_no_value.md: my_map is 3 MAP rows {1->null,2->null,3->null}, {4..6}, {7..9};
    # my_map_no_v (a MAP without a value field) and my_list are [1,2,3], [4,5,6], [7,8,9].
    # my_map_no_v may read as a list of its keys or as a map with null values.
    res = run(rel)
    why = []
    if res.status != "ok":
        why.append(res.describe())
    elif res.columns != ["my_map", "my_map_no_v", "my_list"]:
        why.append(f"columns {res.columns}")
    elif res.nrows != 3:
        why.append(f"{res.nrows} rows, expected 3")
    else:
        tmap = bzlib.parse_type("MAP(INTEGER, INTEGER)")
        tlist = bzlib.parse_type("INTEGER[]")
        for i, row in enumerate(res.rows):
            keys = [3 * i + 1, 3 * i + 2, 3 * i + 3]
            as_map = bzlib.Exact(("map", [(k, None) for k in keys]))
            r = bzlib.compare(tmap, as_map, row[0])
            if r:
                why.append(f"row {i} my_map: {r}")
            r1 = bzlib.compare(tlist, keys, row[1])
            r2 = bzlib.compare(tmap, as_map, row[1])
            if r1 and r2:
                why.append(f"row {i} my_map_no_v: as a list: {r1}; as a map: {r2}")
            r = bzlib.compare(tlist, keys, row[2])
            if r:
                why.append(f"row {i} my_list: {r}")
    report(rel, not why, "; ".join(why[:4]) if why else "ok")


def special_large_string_map(rel):
    # README "Large string map": column arr MAP(STRING, INT32), 2 rows, each
    # {"a" * 2**30: 1}; the string column chunk is over 2 GiB uncompressed (DuckDB
    # tried to allocate 8 GiB). count(*) must stay under 1 GiB of peak RSS. Reading
    # the values needs each 1 GiB key; if that is over SQLite's length limit the
    # only right answer is a clean error, and it must not take more than 4 GiB.
    if E["san"]:
        report(rel, True, "SKIPPED under ASan (BZ_SAN=1): 2 values of 1 GiB each")
        return
    why = []
    cnt = run(rel, sql="SELECT count(*) FROM t", timeout=120)
    if cnt.status != "ok":
        why.append("count(*): " + cnt.describe())
    elif cnt.rows != [(2,)]:
        why.append(f"count(*) = {cnt.rows}, expected 2")
    if cnt.maxrss_kib > GIB // 1024:
        why.append(f"count(*) peak RSS {cnt.maxrss_kib // 1024} MiB > 1024 MiB")
    limit = bzlib.connect_plain_limit()
    value_len = len('{"":1}') + 2**30
    res = run(rel, sql="SELECT length(arr), substr(arr, 1, 8), substr(arr, -6) FROM t", timeout=120)
    if value_len > limit:
        if res.status != "error":
            why.append(f"reading values (JSON text of {value_len} bytes > SQLITE_LIMIT_LENGTH {limit}) "
                       f"must be a clean error: " + (res.describe() if res.status != "ok" else f"got {res.rows}"))
    else:
        if res.status != "ok":
            why.append("values: " + res.describe())
        elif [r[0] for r in res.rows] != [value_len] * 2:
            why.append(f"value lengths {[r[0] for r in res.rows]}")
    if res.maxrss_kib > 4 * GIB // 1024:
        why.append(f"reading values: peak RSS {res.maxrss_kib // 1024} MiB > 4096 MiB")
    report(rel, not why, "; ".join(why) if why else
           f"ok (peak RSS: count(*) {cnt.maxrss_kib // 1024} MiB, values {res.maxrss_kib // 1024} MiB)")


SPECIAL = {
    "data/hadoop_lz4_compressed.parquet": special_lz4,
    "data/non_hadoop_lz4_compressed.parquet": special_lz4,
    "data/hadoop_lz4_compressed_larger.parquet": special_lz4_larger,
    "data/byte_stream_split_extended.gzip.parquet": special_bss_extended,
    "data/map_no_value.parquet": special_map_no_value,
    "data/large_string_map.brotli.parquet": special_large_string_map,
}

# int96_from_spark.md gives the true values as microseconds since the epoch; DuckDB
# 1.5 overflowed the last one (it printed '226414-01-07 (BC) ...').
INT96_MICROS = [1704141296123456, 1704070800000000, 253402225200000000, 1735599600000000, None,
                9089380393200000000]
OVERRIDES = {
    "data/int96_from_spark.parquet": {
        (i, "a"): bzlib.Exact(None if us is None else ("ts", us * 1000)) for i, us in enumerate(INT96_MICROS)},
}


def delta_csv(rel_csv, rel_parquet):
    """The *_expect.csv beside a delta-encoded file: every row, by column position
    (header names differ in spelling); an empty field is NULL."""
    header, _ = load(os.path.join(os.path.dirname(rel_parquet),
                                  os.path.basename(rel_parquet)[:-8] + ".expected.jsonl"))
    types = [bzlib.parse_type(c["type"]) for c in header["columns"]]
    with open(p(rel_csv), newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    res = run(rel_parquet)
    why = []
    if res.status != "ok":
        why.append(res.describe())
    elif res.nrows != len(rows):
        why.append(f"{res.nrows} rows, csv has {len(rows)}")
    else:
        for i, (er, gr) in enumerate(zip(rows, res.rows)):
            for j, t in enumerate(types):
                e = er[j] if er[j] != "" else None
                if e is not None and t.kind in bzlib.INT_KINDS:
                    e = int(e)
                r = bzlib.compare(t, e, gr[j])
                if r:
                    why.append(f"row {i} column {j}: {r}")
                    break
            if len(why) >= 3:
                break
    report(rel_csv, not why, "; ".join(why) if why else f"ok ({len(rows)} rows)")


def main():
    if not os.path.isdir(PT):
        print(f"FAIL corpus not found at {PT}")
        return 1
    try:
        bzlib.connect().close()
    except Exception as e:
        print(f"FAIL cannot load the extension {E['ext']}: {e}")
        return 1
    files = sorted(set(
        [os.path.relpath(f, PT) for f in glob.glob(os.path.join(PT, "data", "**", "*.parquet"), recursive=True)]
        + [os.path.relpath(f, PT) for f in glob.glob(os.path.join(PT, "bad_data", "**", "*.parquet"), recursive=True)]
        + [os.path.relpath(f, PT) for f in glob.glob(os.path.join(PT, "**", "*.encrypted"), recursive=True)]))
    for rel in files:
        stem = os.path.splitext(rel)[0]
        jsonl = os.path.join(EXPECTED, stem + ".expected.jsonl")
        errtxt = os.path.join(EXPECTED, stem + ".expected-error.txt")
        bad = rel.startswith("bad_data/")
        if rel.endswith(".encrypted"):
            expect_error(rel, "Parquet modular encryption; no keys are given")
        elif rel in SPECIAL:
            SPECIAL[rel](rel)
        elif os.path.exists(jsonl):
            header, rows = bzlib.read_expected_jsonl(jsonl)
            if bad:
                expect_error_or_match(rel, header, rows)
            else:
                expect_match(rel, header, rows, OVERRIDES.get(rel))
        elif os.path.exists(errtxt):
            if bad:
                expect_error(rel, open(errtxt).read().strip())
            else:
                report(rel, False, "DuckDB could not read this valid file and the test has no "
                       "other expectation for it: add one to SPECIAL")
        else:
            report(rel, False, "no expectation file")
    for rel_csv in sorted(glob.glob(os.path.join(PT, "data", "*_expect.csv"))):
        rel_csv = os.path.relpath(rel_csv, PT)
        delta_csv(rel_csv, rel_csv[: -len("_expect.csv")] + ".parquet")
    failed = [r for r in results if not r[1]]
    print(f"{len(results) - len(failed)} ok, {len(failed)} failed, of {len(results)} checks")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
