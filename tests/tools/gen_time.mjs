// DATE / TIMESTAMP files for the pushdown differential test (tests/python/test_pushdown_time.py),
// written by DuckDB (the oracle), and DuckDB's answers to comparisons on them.
//
//   node tests/tools/gen_time.mjs gen OUTDIR [--rows N]
//   node tests/tools/gen_time.mjs oracle GLOB ANSWERS.json < queries.json
//
// gen writes OUTDIR/time_random.parquet (rows in generation order) and
// OUTDIR/time_sorted.parquet (the same rows sorted by d, so statistics prune), row groups
// of 2048 rows, columns:
//   id INTEGER, d DATE, ts_us TIMESTAMP (MICROS), ts_ms TIMESTAMP_MS (MILLIS),
//   ts_ns TIMESTAMP_NS (NANOS), ts_tz TIMESTAMPTZ (MICROS, isAdjustedToUTC)
// Keys (days / units since the epoch) come from a fixed LCG: about 10% NULL per column, the
// rest spread over 1900..2100, 0000..1900, 2100..9999, the exact ends of years 0000 and 9999
// and the epoch (+-3 keys), and years outside 0000..9999 (which render with a sign or five
// digits); sub-day parts are whole days, seconds, milliseconds, microseconds or any unit.
// TIMESTAMP_NS keys stay inside what DuckDB converts (years 1677..2262).
//
// oracle reads [{"col", "op", "lit"}] and writes into ANSWERS.json, per query, the sorted ids of the rows
// (years 1..9999 only, where text order and time order agree; TIMESTAMPTZ in UTC) with
// col op CAST(lit).
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';

const [mode, target, answers] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run("SET TimeZone = 'UTC'");

if (mode === 'oracle') {
    const qs = JSON.parse(fs.readFileSync(0, 'utf8'));
    const out = [];
    const g = target.replace(/'/g, "''");
    for (const q of qs) {
        const lit = "'" + q.lit.replace(/'/g, "''") + "'";
        const sql = `SELECT id FROM read_parquet('${g}') WHERE ${q.col} ${q.op} ${lit}
                     AND year(CAST(${q.col} AS TIMESTAMP)) BETWEEN 1 AND 9999 ORDER BY id`;
        out.push((await con.runAndReadAll(sql)).getRowsJson().map((r) => Number(r[0])));
    }
    fs.writeFileSync(answers, JSON.stringify(out));
    process.exit(0);
}
if (mode !== 'gen' || !target) {
    console.error('usage: gen_time.mjs gen OUTDIR [--rows N] | oracle GLOB ANSWERS.json < queries.json');
    process.exit(2);
}
const ri = process.argv.indexOf('--rows');
const ROWS = ri > 0 ? parseInt(process.argv[ri + 1], 10) : 8192;
const OUT = path.resolve(target);
fs.mkdirSync(OUT, { recursive: true });

let state = 20261123n;
function rnd(n) { // 0 <= r < n (BigInt), fixed sequence
    state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return (state >> 11n) % BigInt(n);
}
const pick = (lo, hi) => lo + rnd(hi - lo + 1n); // BigInt, inclusive
const D0 = -719528n, D1 = 2932896n; // 0000-01-01, 9999-12-31
function day() {
    switch (Number(rnd(10))) {
    case 0: case 1: case 2: case 3: return pick(-25567n, 47482n);      // 1900..2100
    case 4: return pick(D0, -25567n);
    case 5: return pick(47482n, D1);
    case 6: return [D0, D1, 0n, -1n][Number(rnd(4))] + pick(-3n, 3n);
    case 7: return rnd(2) ? pick(-7000000n, D0 - 1n) : pick(D1 + 1n, 7000000n); // years -17000..21000
    default: return pick(-3650n, 3650n);                                   // 1960..1980
    }
}
function key(per) { // a timestamp key in units of 1/per seconds
    const perDay = 86400n * per;
    const d = day();
    if (rnd(7) === 0n) return [D0 * perDay, (D1 + 1n) * perDay, 0n][Number(rnd(3))] + pick(-3n, 3n);
    const grain = [perDay, per, per / 1000n || 1n, per / 1000000n || 1n, 1n][Number(rnd(5))];
    return d * perDay + pick(0n, perDay / grain - 1n) * grain;
}
const rows = [];
for (let i = 0; i < ROWS; i++) {
    const v = [i, day(), key(1000000n), key(1000n), null, key(1000000n)];
    let ns = key(1000000000n);
    const lim = 9000000000000000000n; // DuckDB's TIMESTAMP_NS conversions stay inside this
    while (ns < -lim || ns > lim) ns = key(1000000000n);
    v[4] = ns;
    for (let c = 1; c < v.length; c++) if (rnd(10) === 0n) v[c] = null;
    rows.push(v.map((x) => (x === null ? '' : String(x))).join(','));
}
const csv = path.join(OUT, 'keys.csv');
fs.writeFileSync(csv, 'id,d,us,ms,ns,tz\n' + rows.join('\n') + '\n');
await con.run(`CREATE TABLE t AS SELECT id::INTEGER AS id,
    (DATE '1970-01-01' + d::INTEGER) AS d,
    make_timestamp(us) AS ts_us,
    make_timestamp(ms * 1000)::TIMESTAMP_MS AS ts_ms,
    make_timestamp_ns(ns) AS ts_ns,
    make_timestamp(tz)::TIMESTAMPTZ AS ts_tz
  FROM read_csv('${csv}', header = true, columns = {'id': 'BIGINT', 'd': 'BIGINT', 'us': 'BIGINT',
    'ms': 'BIGINT', 'ns': 'BIGINT', 'tz': 'BIGINT'})`);
// the keys must survive the round trip: epoch(...) back to the units written
const back = (await con.runAndReadAll(`SELECT count(*) FROM t JOIN read_csv('${csv}', header = true,
    columns = {'id': 'BIGINT', 'd': 'BIGINT', 'us': 'BIGINT', 'ms': 'BIGINT', 'ns': 'BIGINT', 'tz': 'BIGINT'}) k
    ON t.id = k.id WHERE (t.d - DATE '1970-01-01') IS NOT DISTINCT FROM k.d
    AND epoch_us(t.ts_us) IS NOT DISTINCT FROM k.us AND epoch_ms(t.ts_ms) IS NOT DISTINCT FROM k.ms
    AND epoch_ns(t.ts_ns) IS NOT DISTINCT FROM k.ns AND epoch_us(t.ts_tz) IS NOT DISTINCT FROM k.tz`))
    .getRowsJson()[0][0];
if (Number(back) !== ROWS) {
    console.error(`gen_time: only ${back} of ${ROWS} rows kept their keys through DuckDB`);
    process.exit(1);
}
fs.unlinkSync(csv);
for (const [name, order] of [['time_random', 'id'], ['time_sorted', 'd NULLS FIRST, id']]) {
    await con.run(`COPY (SELECT * FROM t ORDER BY ${order}) TO '${path.join(OUT, name + '.parquet')}'
                   (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
}
console.log(`gen_time: ${ROWS} rows x 2 files in ${OUT}`);
