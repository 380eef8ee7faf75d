// A deterministic TPC-H-like `lineitem` as snappy Parquet, written by DuckDB.
//
//   node bench/gen_lineitem.mjs [--sf 1] [--out bench/data] [--split N]
//
// Writes OUT/lineitem_sf<SF>.parquet (DuckDB's default row groups of 122880 rows),
// or with --split N the same rows as OUT/lineitem_sf<SF>_split<N>/part-<k>.parquet,
// N files of consecutive l_orderkey ranges. Row count is round(6001215 * SF), the
// count of dbgen at that scale factor.
//
// DuckDB's tpch extension cannot be downloaded here, so the columns follow the
// TPC-H specification's domains (clause 4.2.3) with hash-based pseudo-random values
// (hash(row, salt): no generator state, same output every run):
//   l_orderkey      sparse keys like dbgen (8 used out of every 32), ascending
//   l_linenumber    1..7 lines per order
//   l_partkey       1..200000*SF;  l_suppkey 1..10000*SF
//   l_quantity      1..50, DECIMAL(15,2)
//   l_extendedprice l_quantity * p_retailprice(l_partkey) (the spec's formula)
//   l_discount      0.00..0.10;   l_tax 0.00..0.08
//   o_orderdate     1992-01-01 .. 1998-12-31 minus 151 days, per order
//   l_shipdate      orderdate + 1..121; l_commitdate orderdate + 30..90;
//   l_receiptdate   shipdate + 1..30  (shipdate within 1992-01-02 .. 1998-12-01;
//                   receiptdate up to 1998-12-31, as dbgen)
//   l_returnflag    R or A if receiptdate <= 1995-06-17, else N
//   l_linestatus    O if shipdate > 1995-06-17, else F
//   l_shipinstruct, l_shipmode: the spec's word lists; l_comment 10..43 chars of words
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
const opt = (name, def) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : def;
};
const SF = parseFloat(opt('sf', '1'));
const OUT = path.resolve(opt('out', path.join(path.dirname(new URL(import.meta.url).pathname), 'data')));
const SPLIT = parseInt(opt('split', '0'), 10);
const ROWS = Math.round(6001215 * SF);
const ORDERS = Math.ceil((ROWS / 4) * 1.05) + 16; // ~4 lines per order; cut to ROWS below
const PARTS = Math.max(1, Math.round(200000 * SF));
const SUPPS = Math.max(1, Math.round(10000 * SF));
const sfTag = String(SF).replace('.', '_');

fs.mkdirSync(OUT, { recursive: true });
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const words = ['furiously', 'carefully', 'slyly', 'blithely', 'quickly', 'fluffily', 'final', 'regular',
    'express', 'special', 'pending', 'ironic', 'bold', 'even', 'silent', 'unusual', 'packages', 'deposits',
    'requests', 'accounts', 'foxes', 'ideas', 'theodolites', 'pinto', 'beans', 'instructions', 'dependencies',
    'excuses', 'platelets', 'asymptotes', 'courts', 'dolphins', 'haggle', 'nag', 'sleep', 'wake', 'cajole',
    'integrate', 'boost', 'detect', 'among', 'across', 'above', 'against', 'the', 'about'];
const wl = `[${words.map((w) => `'${w}'`).join(', ')}]`;
const pick = (list, k, n) => `(${list})[(hash(i, ${k}) % ${n} + 1)::INTEGER]`;

const t0 = Date.now();
await con.run(`CREATE TABLE lineitem AS
WITH o AS (
    SELECT o.i AS oi, (o.i // 8) * 32 + (o.i % 8) + 1 AS l_orderkey, 1 + hash(o.i, 1) % 7 AS nl,
           DATE '1992-01-01' + (hash(o.i, 2) % (DATE '1998-12-31' - DATE '1992-01-01' - 151 + 1))::INTEGER AS odate
    FROM range(${ORDERS}) o(i)),
l AS (
    SELECT oi, l_orderkey, odate, unnest(range(1, nl::BIGINT + 1)) AS l_linenumber FROM o),
r AS (
    SELECT oi * 8 + l_linenumber AS i, l_orderkey, l_linenumber, odate,
           1 + hash(oi, l_linenumber, 3) % ${PARTS} AS l_partkey
    FROM l ORDER BY l_orderkey, l_linenumber LIMIT ${ROWS}),
v AS (
    SELECT *, (1 + hash(i, 4) % 50)::DECIMAL(15,2) AS l_quantity,
           odate + (1 + hash(i, 5) % 121)::INTEGER AS l_shipdate,
           odate + (30 + hash(i, 6) % 61)::INTEGER AS l_commitdate
    FROM r)
SELECT l_orderkey::BIGINT AS l_orderkey,
       l_partkey::BIGINT AS l_partkey,
       (1 + (l_partkey + l_linenumber * (${SUPPS} // 4 + (l_partkey - 1) // ${SUPPS})) % ${SUPPS})::BIGINT AS l_suppkey,
       l_linenumber::BIGINT AS l_linenumber,
       l_quantity,
       (l_quantity * ((90000 + ((l_partkey // 10) % 20001) + 100 * (l_partkey % 1000)) / 100.0))::DECIMAL(15,2) AS l_extendedprice,
       ((hash(i, 7) % 11) / 100.0)::DECIMAL(15,2) AS l_discount,
       ((hash(i, 8) % 9) / 100.0)::DECIMAL(15,2) AS l_tax,
       CASE WHEN l_shipdate + (1 + hash(i, 9) % 30)::INTEGER <= DATE '1995-06-17'
            THEN (CASE WHEN hash(i, 10) % 2 = 0 THEN 'R' ELSE 'A' END) ELSE 'N' END AS l_returnflag,
       CASE WHEN l_shipdate > DATE '1995-06-17' THEN 'O' ELSE 'F' END AS l_linestatus,
       l_shipdate,
       l_commitdate,
       l_shipdate + (1 + hash(i, 9) % 30)::INTEGER AS l_receiptdate,
       ${pick("['DELIVER IN PERSON', 'COLLECT COD', 'NONE', 'TAKE BACK RETURN']", 11, 4)} AS l_shipinstruct,
       ${pick("['REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB']", 12, 7)} AS l_shipmode,
       substr(${pick(wl, 13, words.length)} || ' ' || ${pick(wl, 14, words.length)} || ' ' ||
              ${pick(wl, 15, words.length)} || ' ' || ${pick(wl, 16, words.length)} || ' ' ||
              ${pick(wl, 17, words.length)} || ' ' || ${pick(wl, 18, words.length)},
              1, (10 + hash(i, 19) % 34)::INTEGER) AS l_comment
FROM v ORDER BY l_orderkey, l_linenumber`);

const n = Number((await con.runAndReadAll('SELECT count(*) FROM lineitem')).getRows()[0][0]);
if (n !== ROWS) throw new Error(`generated ${n} rows, wanted ${ROWS}`);
let written;
if (SPLIT > 1) {
    const dir = path.join(OUT, `lineitem_sf${sfTag}_split${SPLIT}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const per = Math.ceil(ROWS / SPLIT);
    for (let k = 0; k < SPLIT; k++) {
        const f = path.join(dir, `part-${String(k).padStart(3, '0')}.parquet`);
        await con.run(`COPY (SELECT * FROM lineitem ORDER BY l_orderkey, l_linenumber LIMIT ${per} OFFSET ${k * per})
                       TO '${f}' (FORMAT parquet, COMPRESSION snappy)`);
    }
    written = dir;
} else {
    written = path.join(OUT, `lineitem_sf${sfTag}.parquet`);
    await con.run(`COPY (SELECT * FROM lineitem ORDER BY l_orderkey, l_linenumber)
                   TO '${written}' (FORMAT parquet, COMPRESSION snappy)`);
}
console.log(`gen_lineitem: ${ROWS} rows (SF ${SF}) -> ${written} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
