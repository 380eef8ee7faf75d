// The sample dataset in data/ and the tiny test files in tests/data/, written by DuckDB.
//
//   node tests/tools/gen_sample.mjs            # (re)writes data/ and tests/data/
//
// Everything is deterministic: values come from hash(row, salt) (no generator state),
// DuckDB runs with one thread, so a second run writes the same bytes. The files are
// committed; this script only exists so they can be regenerated or extended.
//
// data/trips/year=YYYY/month=M/trips.parquet
//     4096 taxi-like trips per month, 2023-11 .. 2024-04 (hive partitions), sorted by
//     pickup_at, 2048-row row groups (statistics per row group), zstd. Columns:
//     trip_id BIGINT, pickup_at TIMESTAMP, pickup_date DATE, vendor VARCHAR,
//     zone VARCHAR, passengers INTEGER, distance_km DOUBLE, fare DECIMAL(9,2),
//     paid_card BOOLEAN, note VARCHAR (mostly NULL), stops VARCHAR[],
//     driver STRUCT(id INTEGER, name VARCHAR, rating DOUBLE).
// data/lineitem.parquet
//     bench/gen_lineitem.mjs --sf 0.01 (60,012 rows), rewritten as zstd in 10,240-row
//     row groups so the file stays small and row-group pruning has something to skip.
// tests/data/
//     types.parquet       4 rows, one column per type the type-mapping tests check
//     union/a.parquet     (id INTEGER, name VARCHAR)
//     union/b.parquet     (name VARCHAR, id INTEGER, score DOUBLE): same names, other
//                         order, one more column -> needs union_by_name=1
//     id_text.parquet     (id VARCHAR, name VARCHAR): union/a.parquet's names, other type
//     not_parquet.parquet a text file with a .parquet name
import { DuckDBInstance } from '@duckdb/node-api';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const DATA = path.join(ROOT, 'data');
const TDATA = path.join(ROOT, 'tests', 'data');

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run("SET TimeZone = 'UTC'");
await con.run('SET threads = 1'); // deterministic file layout

const u = (k, n) => `(hash(i, ${k}) % ${n})`;
const pick = (list, k) => `([${list.map((w) => `'${w}'`).join(', ')}])[(${u(k, list.length)} + 1)::INTEGER]`;
const ZONES = ['Airport', 'Central', 'Docks', 'Harbor', 'Midtown', 'Old Town', 'Riverside', 'Station',
    'University', 'Uptown'];
const NAMES = ['Ana', 'Ben', 'Chloé', 'Dev', 'Eli', 'Fatima', 'Goran', 'Hiro', 'Ines', 'Jonas'];

// ---- data/trips ---------------------------------------------------------------------
const MONTHS = [[2023, 11], [2023, 12], [2024, 1], [2024, 2], [2024, 3], [2024, 4]];
const PER_MONTH = 4096;
fs.rmSync(path.join(DATA, 'trips'), { recursive: true, force: true });
for (const [k, [y, m]] of MONTHS.entries()) {
    const start = `TIMESTAMP '${y}-${String(m).padStart(2, '0')}-01 00:00:00'`;
    const secs = `(epoch(${start} + INTERVAL 1 MONTH) - epoch(${start}))::BIGINT`;
    await con.run(`CREATE OR REPLACE TABLE trips AS
WITH r AS (SELECT (${k} * ${PER_MONTH} + n)::BIGINT AS i FROM range(${PER_MONTH}) t(n)),
s AS (SELECT i, ${start} + to_seconds((hash(i, 1) % ${secs})::BIGINT) AS pickup_at,
             1 + ${u(2, 4000)} / 100.0 AS distance_km FROM r)
SELECT 0::BIGINT AS trip_id,
       pickup_at,
       pickup_at::DATE AS pickup_date,
       ${pick(['acme', 'bolt', 'cabco'], 3)} AS vendor,
       ${pick(ZONES, 4)} AS zone,
       (1 + ${u(5, 4)} * ${u(6, 2)})::INTEGER AS passengers,
       round(distance_km, 2)::DOUBLE AS distance_km,
       (3.50 + distance_km * 1.85 + ${u(7, 100)} / 100.0)::DECIMAL(9,2) AS fare,
       ${u(8, 10)} < 7 AS paid_card,
       CASE WHEN ${u(9, 50)} = 0 THEN 'lost item reported' WHEN ${u(9, 50)} = 1 THEN 'child seat'
            ELSE NULL END AS note,
       list_transform(range(${u(10, 3)}::BIGINT), x -> ${pick(ZONES, 'x + 11')}) AS stops,
       {'id': (100 + ${u(12, 10)})::INTEGER, 'name': ${pick(NAMES, 12)},
        'rating': (14 + ${u(13, 7)}) / 4.0} AS driver
FROM s ORDER BY pickup_at, i`);
    // trip ids ascend with time across the whole dataset
    await con.run(`CREATE OR REPLACE TABLE trips AS
        SELECT * REPLACE ((${k * PER_MONTH} + row_number() OVER (ORDER BY pickup_at))::BIGINT AS trip_id)
        FROM trips ORDER BY pickup_at, trip_id`);
    const dir = path.join(DATA, 'trips', `year=${y}`, `month=${m}`);
    fs.mkdirSync(dir, { recursive: true });
    await con.run(`COPY (SELECT * FROM trips ORDER BY pickup_at, trip_id) TO '${path.join(dir, 'trips.parquet')}'
                   (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)`);
}

// ---- data/lineitem.parquet ----------------------------------------------------------
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gen_sample-'));
try {
    execFileSync(process.execPath, [path.join(ROOT, 'bench', 'gen_lineitem.mjs'), '--sf', '0.01', '--out', tmp],
        { stdio: 'inherit' });
    await con.run(`COPY (SELECT * FROM '${path.join(tmp, 'lineitem_sf0_01.parquet')}' ORDER BY l_orderkey, l_linenumber)
                   TO '${path.join(DATA, 'lineitem.parquet')}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 10240)`);
} finally {
    fs.rmSync(tmp, { recursive: true, force: true });
}

// ---- tests/data ---------------------------------------------------------------------
fs.mkdirSync(path.join(TDATA, 'union'), { recursive: true });
await con.run(`COPY (SELECT * FROM (VALUES
    (1, true, 'a'::BLOB, 'x', '2024-02-29'::DATE, TIMESTAMP '2024-02-29 13:45:00.123456',
     TIMESTAMP_NS '2024-02-29 13:45:00.123456789', TIMESTAMPTZ '2024-02-29 13:45:00+00', TIME '13:45:00.5',
     12.34::DECIMAL(9,2), 1234567890123456789.0123456789::DECIMAL(38,10),
     '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID, 18446744073709551615::UBIGINT, 'NaN'::DOUBLE,
     [1, 2, NULL], {'k': 'v', 'n': 1}, MAP {'one': 1, 'two': 2}, MAP {7: 'seven'}, [unhex('00FF'), 'a\\x5Cb"'::BLOB],
     'plain text'::BLOB),
    (2, false, unhex('00FF10'), NULL, '1969-12-31'::DATE, TIMESTAMP '1969-12-31 23:59:59',
     TIMESTAMP_NS '1969-12-31 23:59:59.999999999', TIMESTAMPTZ '1970-01-01 00:00:00+00', TIME '00:00:00',
     -0.05::DECIMAL(9,2), -1.5::DECIMAL(38,10),
     '00000000-0000-0000-0000-000000000000'::UUID, 9223372036854775807::UBIGINT, 'inf'::DOUBLE,
     [], {'k': NULL, 'n': NULL}, MAP {}, NULL, [], ''::BLOB),
    (3, NULL, NULL, 'y', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (4, true, ''::BLOB, '', '0001-01-01'::DATE, TIMESTAMP '9999-12-31 23:59:59.999999',
     NULL, NULL, TIME '23:59:59.999999', 0::DECIMAL(9,2), 0::DECIMAL(38,10), NULL, 0::UBIGINT, -0.0::DOUBLE,
     []::INTEGER[], NULL, NULL, NULL, NULL, NULL)
    ) v(id, c_bool, c_blob, c_text, c_date, c_ts, c_ts_ns, c_tstz, c_time, c_dec, c_dec38, c_uuid, c_ubig,
        c_double, c_list, c_struct, c_map, c_map_int, c_list_blob, c_bin_text) ORDER BY id)
    TO '${path.join(TDATA, 'types.parquet')}' (FORMAT parquet)`);
await con.run(`COPY (SELECT i::INTEGER AS id, 'a' || i AS name FROM range(1, 4) t(i))
    TO '${path.join(TDATA, 'union', 'a.parquet')}' (FORMAT parquet)`);
await con.run(`COPY (SELECT 'b' || i AS name, i::INTEGER AS id, i / 2 AS score FROM range(10, 12) t(i))
    TO '${path.join(TDATA, 'union', 'b.parquet')}' (FORMAT parquet)`);
await con.run(`COPY (SELECT 'x' || i AS id, 'c' || i AS name FROM range(1, 3) t(i))
    TO '${path.join(TDATA, 'id_text.parquet')}' (FORMAT parquet)`);
fs.writeFileSync(path.join(TDATA, 'not_parquet.parquet'), 'id,name\n1,this is CSV, not Parquet\n');
console.log('gen_sample: wrote data/trips, data/lineitem.parquet, tests/data/');
