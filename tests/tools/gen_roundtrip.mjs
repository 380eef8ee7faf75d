// Round-trip corpus for the parquet virtual table, written by DuckDB (the oracle).
//
//   node tests/tools/gen_roundtrip.mjs OUTDIR [--rows N]
//
// Writes into OUTDIR:
//   rt_<codec>_<v1|v2>_<dict|plain>_<nulls|nonull>.parquet
//       the same deterministic pseudo-random rows (hash-based, no RNG state) with every
//       type DuckDB writes, for every codec DuckDB writes (uncompressed, snappy, gzip,
//       zstd, lz4_raw, brotli) x PARQUET_VERSION v1/v2 (v2 = the v2 encodings; DuckDB
//       1.5 writes v1 data page headers either way, see verify()) x dictionary on/off (DICTIONARY_SIZE_LIMIT 0
//       turns dictionaries off; DICTIONARY_COMPRESSION_RATIO_THRESHOLD is accepted but
//       has no effect in DuckDB 1.5) x with/without NULLs; several row groups each
//       (DuckDB rounds ROW_GROUP_SIZE up to 2048 rows).
//   rt_<nulls|nonull>.expected.jsonl
//       line 1: {"file", "rows", "columns": [{"name", "type" (DuckDB), "sqlite"}]};
//       then every row, ordered by id, in the SQLite representation of the parquet
//       table's contract: BOOLEAN as 0/1, BLOB as {"hex": "..."}, DECIMAL as an exact
//       JSON number, DATE/TIME/TIMESTAMP as text (TIMESTAMPTZ in UTC, '+00'), UUID/ENUM
//       as text, nested values as JSON (DuckDB's rendering inside: maps as objects,
//       blobs as \xHH text), NaN/Infinity as JSON's NaN/Infinity tokens.
//   manifest.json  {"rows", "files": [{"file", "codec", "page" (PARQUET_VERSION),
//                   "dictionary", "nulls", "expected"}], "data_page_header_types"}
// Every option is verified through parquet_metadata() and the page headers, so a
// silently ignored option fails the generator instead of weakening the test.
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
if (!args.length || args[0].startsWith('-')) {
    console.error('usage: gen_roundtrip.mjs OUTDIR [--rows N]');
    process.exit(2);
}
const OUT = path.resolve(args[0]);
const ri = args.indexOf('--rows');
const ROWS = ri > 0 ? parseInt(args[ri + 1], 10) : 5000;
const CODECS = ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4_raw', 'brotli'];
const CODEC_META = { uncompressed: 'UNCOMPRESSED', snappy: 'SNAPPY', gzip: 'GZIP', zstd: 'ZSTD',
                     lz4_raw: 'LZ4_RAW', brotli: 'BROTLI' };

fs.mkdirSync(OUT, { recursive: true });
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run("SET TimeZone = 'UTC'");
await con.run('SET threads = 1');  // deterministic file layout
await con.run("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'überglücklich')");

// h(k): a 64-bit hash of (row, column salt); u(k, n): uniform in [0, n).
const h = (k) => `hash(i, ${k})`;
const u = (k, n) => `(${h(k)} % ${n})`;
// A column is [name, sql]; edge rows 0..3 hold extremes where a type has them.
const edge = (cases, other) =>
    `CASE ${cases.map((v, j) => `WHEN i = ${j} THEN ${v}`).join(' ')} ELSE ${other} END`;
const sint = (bits, k) => `(${u(k, `${2n ** BigInt(bits)}::HUGEINT`)}::HUGEINT - ${2n ** BigInt(bits - 1)})`;
const decimal = (p, s, k) => {
    const ip = p - s;
    const intpart = ip <= 18 ? `(${u(k, `${10n ** BigInt(ip)}`)})::VARCHAR`
        : `(${u(k, `${10n ** BigInt(ip - 18)}`)})::VARCHAR || lpad((${u(k + 1, '1000000000000000000')})::VARCHAR, 18, '0')`;
    return `((CASE WHEN ${u(k + 2, 2)} = 0 THEN '-' ELSE '' END) || ${intpart} || '.' || ` +
        `lpad((${u(k + 3, `${10n ** BigInt(s)}`)})::VARCHAR, ${s}, '0'))::DECIMAL(${p},${s})`;
};
const str = (k) => `CASE ${u(k, 8)} WHEN 0 THEN '' WHEN 1 THEN 'héllo wörld ' || ${u(k + 1, 1000)}
    WHEN 2 THEN '日本語テキスト' || ${u(k + 1, 100)} WHEN 3 THEN '🦆 duck ' || ${u(k + 1, 50)}
    WHEN 4 THEN 'p' || substr(md5(${h(k + 1)}::VARCHAR), 1, (${u(k + 2, 20)} + 1)::INT)
    WHEN 5 THEN 'tab\there, quote'' and "double", nul-free ' || ${u(k + 1, 10)}
    ELSE repeat(chr((97 + ${u(k + 1, 26)})::INT), (${u(k + 2, 40)})::INT) || ${u(k + 3, 1000)} END`;
const micros = (k, span) => `(${u(k, `${2 * span}::UBIGINT`)}::BIGINT - ${span})`;
const TS_SPAN = 4000000000000000; // +-126 years around 1970, in microseconds

function columns(nulls) {
    // Element-level NULLs inside nested values only in the NULL data set.
    const en = (k, e) => (nulls ? `CASE WHEN hash(i, x, ${k}) % 5 = 0 THEN NULL ELSE ${e} END` : e);
    const cols = [
        ['c_bool', `${u(1, 2)} = 0`],
        ['c_tinyint', edge(['-128', '127', '0', '-1'], `${sint(8, 2)}`) + '::TINYINT'],
        ['c_smallint', edge(['-32768', '32767', '0', '-1'], `${sint(16, 3)}`) + '::SMALLINT'],
        ['c_int', edge(['-2147483648', '2147483647', '0', '-1'], `${sint(32, 4)}`) + '::INTEGER'],
        ['c_bigint', edge(['-9223372036854775808', '9223372036854775807', '0', '-1'], `${sint(64, 5)}`) + '::BIGINT'],
        ['c_utinyint', edge(['0', '255'], u(6, 256)) + '::UTINYINT'],
        ['c_usmallint', edge(['0', '65535'], u(7, 65536)) + '::USMALLINT'],
        ['c_uinteger', edge(['0', '4294967295'], u(8, 4294967296)) + '::UINTEGER'],
        // Above INT64_MAX a UBIGINT cannot be an SQLite INTEGER; kept in range (the
        // contract says INTEGER) except row 1, which holds the maximum.
        ['c_ubigint', edge(['0', '18446744073709551615'], u(9, '9223372036854775807::UBIGINT')) + '::UBIGINT'],
        ['c_float', edge(["'inf'::FLOAT", "'-inf'::FLOAT", "'-0.0'::FLOAT", "'NaN'::FLOAT"],
            `((${u(10, 2000000)})::DOUBLE / 1000.0 - 1000.0)::FLOAT`) + '::FLOAT'],
        ['c_double', edge(["'inf'::DOUBLE", "'-inf'::DOUBLE", "'NaN'::DOUBLE", '1e308'],
            `((${h(11)})::DOUBLE / 18446744073709551616.0 - 0.5) * 1e6`) + '::DOUBLE'],
        ['c_dec4_2', decimal(4, 2, 12)],
        ['c_dec9_3', decimal(9, 3, 16)],
        ['c_dec18_6', decimal(18, 6, 20)],
        ['c_dec38_10', decimal(38, 10, 24)],
        ['c_varchar', str(30)],
        ['c_blob', `unhex(substr(md5(${h(34)}::VARCHAR) || md5(${h(35)}::VARCHAR), 1, 2 * (${u(36, 17)})::INT))`],
        ['c_date', edge(["DATE '0001-01-01'", "DATE '9999-12-31'", "DATE '1970-01-01'", "DATE '1969-12-31'"],
            `DATE '1970-01-01' + (${u(37, 200000)}::INTEGER - 100000)`)],
        ['c_time', edge(["TIME '00:00:00'", "TIME '23:59:59.999999'"],
            `TIME '00:00:00' + to_microseconds(${u(38, '86400000000')}::BIGINT)`)],
        ['c_timestamp', edge(["TIMESTAMP '1677-09-22 00:00:00'", "TIMESTAMP '2262-04-11 23:47:16.854775'",
                              "TIMESTAMP '1970-01-01 00:00:00'", "TIMESTAMP '1969-12-31 23:59:59.999999'"],
            `make_timestamp(${micros(39, TS_SPAN)})`)],
        ['c_timestamp_ms', `make_timestamp(${micros(40, TS_SPAN)})::TIMESTAMP_MS`],
        ['c_timestamp_s', `make_timestamp(${micros(41, TS_SPAN)})::TIMESTAMP_S`],
        ['c_timestamp_ns', `make_timestamp_ns(${micros(42, TS_SPAN)} * 1000 + ${u(43, 1000)}::BIGINT)`],
        ['c_timestamptz', `make_timestamp(${micros(44, TS_SPAN)})::TIMESTAMPTZ`],
        ['c_uuid', `(substr(md5(${h(45)}::VARCHAR), 1, 8) || '-' || substr(md5(${h(45)}::VARCHAR), 9, 4) || '-' ||
            substr(md5(${h(45)}::VARCHAR), 13, 4) || '-' || substr(md5(${h(45)}::VARCHAR), 17, 4) || '-' ||
            substr(md5(${h(45)}::VARCHAR), 21, 12))::UUID`],
        ['c_enum', `(['sad', 'ok', 'happy', 'überglücklich'])[(${u(46, 4)} + 1)::INT]::mood`],
        ['c_list_int', `list_transform(range(${u(47, 6)}::BIGINT), x -> ${en(48, `(hash(i, x, 49) % 1000)::INTEGER - 500`)})`],
        ['c_list_varchar', `list_transform(range(${u(50, 4)}::BIGINT), x -> ${en(51, `'s' || (hash(i, x, 52) % 100)::VARCHAR`)})`],
        ['c_list_list', `list_transform(range(${u(53, 4)}::BIGINT), x -> list_transform(range((hash(i, x, 54) % 3)::BIGINT), y -> ${en(55, '(x * 10 + y)::BIGINT')}))`],
        ['c_struct', `{'a': ${u(56, 100)}::INTEGER, 'b': 'v' || ${u(57, 10)}, 'c': (${u(58, 1000)})::DOUBLE / 8.0}`],
        ['c_struct_nested', `{'x': list_transform(range(${u(59, 3)}::BIGINT), x -> x::INTEGER), 'y': {'z': 'z' || ${u(60, 5)}, 't': make_timestamp(${micros(61, TS_SPAN)})}}`],
        ['c_list_struct', `list_transform(range(${u(62, 3)}::BIGINT), x -> {'k': x::INTEGER, 'v': 'e' || (hash(i, x, 63) % 7)::VARCHAR})`],
        ['c_map_str_int', `map_from_entries(list_transform(range(${u(64, 4)}::BIGINT), x -> {'key': 'k' || x::VARCHAR, 'value': ${en(65, '(hash(i, x, 66) % 100)::INTEGER')}}))`],
        ['c_map_int_dbl', `map_from_entries(list_transform(range(${u(67, 3)}::BIGINT), x -> {'key': (x * 7)::INTEGER, 'value': (hash(i, x, 68) % 1000)::DOUBLE / 4.0}))`],
        ['c_list_blob_date', `{'bl': unhex(substr(md5(${h(69)}::VARCHAR), 1, 6)), 'd': DATE '2000-01-01' + ${u(70, 1000)}::INTEGER, 'ts': [make_timestamp(${micros(71, TS_SPAN)})]}`],
    ];
    return cols.map(([n, e], k) => [n, nulls
        ? `CASE WHEN hash(i, ${1000 + k}) % 7 = 0 THEN NULL ELSE ${e} END` : e]);
}

async function rows(sql) {
    const r = await con.runAndReadAll(sql);
    return r.getRowsJson();
}

const SQLITE_FORM = {
    BOOLEAN: (c) => [`${c}::INTEGER`, 'INTEGER'],
    BLOB: (c) => [`CASE WHEN ${c} IS NULL THEN NULL ELSE {'hex': hex(${c})} END`, 'BLOB'],
};
function sqliteExpr(name, type) {
    const q = `"${name}"`;
    if (SQLITE_FORM[type]) return SQLITE_FORM[type](q);
    if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/.test(type)) return [q, 'INTEGER'];
    if (/^(FLOAT|DOUBLE|DECIMAL)/.test(type)) return [q, type.startsWith('DECIMAL') ? 'REAL (TEXT with decimal_as_text=1)' : 'REAL'];
    if (/[\[\]]|^STRUCT|^MAP/.test(type)) return [q, 'TEXT (JSON)'];
    return [`${q}::VARCHAR`, 'TEXT'];
}

const manifest = { rows: ROWS, files: [] };
const pageTypes = new Set();
for (const nulls of [false, true]) {
    const tag = nulls ? 'nulls' : 'nonull';
    const cols = columns(nulls);
    await con.run(`CREATE OR REPLACE TABLE src AS SELECT i::BIGINT AS id, ${cols.map(([n, e]) => `${e} AS ${n}`).join(',\n')}
                   FROM range(${ROWS}) r(i) ORDER BY i`);
    const desc = await rows('DESCRIBE src');
    const header = { file: `rt_${tag}`, rows: ROWS, columns: [] };
    const sel = [];
    for (const [name, type] of desc) {
        const [expr, sqlite] = sqliteExpr(name, type);
        header.columns.push({ name, type: type.startsWith('ENUM') ? 'VARCHAR' : type, sqlite });
        sel.push(`${expr} AS "${name}"`);
    }
    const expFile = path.join(OUT, `rt_${tag}.expected.jsonl`);
    const tmp = path.join(OUT, `.rt_${tag}.rows.jsonl`);
    await con.run(`COPY (SELECT ${sel.join(', ')} FROM src ORDER BY id) TO '${tmp}' (FORMAT json)`);
    fs.writeFileSync(expFile, JSON.stringify(header) + '\n' + fs.readFileSync(tmp, 'utf8'));
    fs.unlinkSync(tmp);

    for (const codec of CODECS) {
        for (const page of ['v1', 'v2']) {
            for (const dict of [true, false]) {
                const file = `rt_${codec}_${page}_${dict ? 'dict' : 'plain'}_${tag}.parquet`;
                const full = path.join(OUT, file);
                const opts = [`FORMAT parquet`, `COMPRESSION ${codec}`, `PARQUET_VERSION ${page}`, `ROW_GROUP_SIZE 2048`];
                if (!dict) opts.push('DICTIONARY_SIZE_LIMIT 0');
                await con.run(`COPY src TO '${full}' (${opts.join(', ')})`);
                await verify(full, codec, page, dict);
                manifest.files.push({ file, codec, page, dictionary: dict, nulls, expected: path.basename(expFile) });
            }
        }
    }
}
manifest.data_page_header_types = [...pageTypes].sort();
fs.writeFileSync(path.join(OUT, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
console.log(`gen_roundtrip: ${manifest.files.length} files of ${ROWS} rows in ${OUT}`);

// Check that DuckDB honoured the options: codec, dictionary pages, row groups and
// encodings. DuckDB 1.5 writes DATA_PAGE (v1) page headers for both PARQUET_VERSION
// v1 and v2 (v2 only switches to the v2 encodings: DELTA_BINARY_PACKED,
// DELTA_LENGTH_BYTE_ARRAY, BYTE_STREAM_SPLIT, RLE_DICTIONARY); DATA_PAGE_V2 headers
// are covered by the parquet-testing corpus instead. The page type is checked from
// the header (compact Thrift PageHeader field 1: byte 0x15 then the zigzag varint;
// DATA_PAGE 0, DICTIONARY_PAGE 2, DATA_PAGE_V2 3) so a future DuckDB that writes v2
// pages is noticed.
async function verify(file, codec, page, dict) {
    const md = await rows(`SELECT row_group_id, compression, encodings, dictionary_page_offset, data_page_offset,
                                  path_in_schema FROM parquet_metadata('${file}')`);
    const fail = (m) => { throw new Error(`${path.basename(file)}: ${m}`); };
    if (new Set(md.map((r) => r[0])).size < 2) fail('expected several row groups');
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(2);
    let sawDict = false;
    let sawV2 = false;
    for (const [, comp, enc, dictOff, dataOff, col] of md) {
        if (comp !== CODEC_META[codec]) fail(`codec ${comp} != ${CODEC_META[codec]}`);
        // DuckDB always writes ENUM columns dictionary-encoded.
        if ((/DICTIONARY/.test(enc) || dictOff !== null) && col !== 'c_enum') sawDict = true;
        if (/DELTA|BYTE_STREAM_SPLIT/.test(enc)) sawV2 = true;
        fs.readSync(fd, buf, 0, 2, Number(dataOff));
        const type = buf[0] === 0x15 ? buf[1] >> 1 : -1;
        if (type !== 0 && type !== 3) fail(`no data page header at ${dataOff} (type ${type})`);
        pageTypes.add(type);
        if (dictOff !== null) {
            fs.readSync(fd, buf, 0, 2, Number(dictOff));
            if (buf[0] !== 0x15 || buf[1] >> 1 !== 2) fail(`no dictionary page header at ${dictOff}`);
        }
    }
    fs.closeSync(fd);
    if (sawDict !== dict) fail(`dictionary ${sawDict} != ${dict}`);
    if (sawV2 !== (page === 'v2')) fail(`v2 encodings ${sawV2} for PARQUET_VERSION ${page}`);
}
