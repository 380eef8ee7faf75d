"""Bad input through the `parquet` virtual table: every damaged file must give a
clean sqlite3 error that names the file and the reason (and, for page-level
damage, the row group and column), never a crash, a hang, or an allocation the
file does not justify.

The damaged files are derived at test time, in a temporary directory, from real
files of $BZ_SHARED/parquet-testing/data, or built by hand here (a small Parquet
writer with a Thrift compact encoder), so each lie is exact:

  truncated        real files cut at many offsets (the end magic is gone)
  chopped          the data region cut out from under an intact footer
  bad magic        at the start (small files: the reader checks it when it reads
                   the whole file anyway) and at the end
  footer length    larger than the file, and 2^31-1
  corrupt thrift   footer bytes overwritten with an unknown field type, a
                   footer cut short, bytes flipped (flips may still parse: a
                   clean error or success, never a crash)
  page headers     found with parquet_metadata's data_page_offset in real files;
                   the size varints patched in place (same byte length)
  hand-built       compressed/uncompressed sizes that lie, a decompression bomb
                   claiming 2147483647 bytes, a gzip bomb (2 GiB of zeros in
                   concatenated members) under a page claiming 1000 bytes and
                   one claiming the 256 MiB limit, dictionary indices out of
                   range, a page claiming more values than it holds, negative
                   sizes
  not Parquet      a text file, an empty file, a directory with no files, a glob
                   matching nothing, a missing file

Cases run in a child python (several cases per child: each writes its result
before the next starts, so a crash is pinned on its case and the child is
restarted after it), with a 10 s timeout per case and RLIMIT_AS = 1 GiB. Under
ASan (BZ_SAN=1) RLIMIT_AS is not set: ASan reserves terabytes of shadow address
space, so the limit cannot work there; the test says so.

Prints one line per case and exits 1 if any failed.
Run: tests/run.sh build python/test_bad_input  (or BZ_EXT=... /usr/bin/python3 this)
"""

import glob
import json
import os
import resource
import select
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bzlib  # noqa: E402

E = bzlib.env()
DATA = os.path.join(E["shared"], "parquet-testing", "data")
CASE_TIMEOUT = 10.0
AS_LIMIT = 1 << 30
LIMIT_MSG = "(limit 268435456)"

# Small real files (< 64 KiB, so the reader sees the start magic too) with
# dictionary pages, v2 pages, snappy/zstd/gzip, nested columns, delta encodings.
SOURCES = ["alltypes_plain.parquet", "alltypes_plain.snappy.parquet",
           "datapage_v2.snappy.parquet", "nested_lists.snappy.parquet",
           "delta_byte_array.parquet", "byte_stream_split.zstd.parquet",
           "rle_boolean_encoding.parquet", "concatenated_gzip_members.parquet",
           "nulls.snappy.parquet", "delta_length_byte_array.parquet"]


# ---------------------------------------------------------------------------
# Thrift compact protocol: a writer (hand-built files) and a reader just good
# enough to find a page header's size fields.
# ---------------------------------------------------------------------------

T_TRUE, T_FALSE, T_I32, T_I64, T_BIN, T_LIST, T_STRUCT = 1, 2, 5, 6, 8, 9, 12


def uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def zigzag(v):
    return (v << 1) ^ (v >> 63)


def varint_fixed(v, width):
    """zigzag(v) as a varint of exactly `width` bytes (padded with continuation
    bytes; decoders accept the non-canonical form). None if it does not fit."""
    z = zigzag(v) & ((1 << 64) - 1)
    if z >> (7 * width):
        return None
    out = bytearray()
    for i in range(width):
        b = (z >> (7 * i)) & 0x7F
        out.append(b | (0x80 if i < width - 1 else 0))
    return bytes(out)


class W:
    """Compact struct writer: W().i32(1, 5).bin(4, b"x").struct(3, W()...).done()"""

    def __init__(self):
        self.b = bytearray()
        self.last = 0

    def _hdr(self, fid, t):
        d = fid - self.last
        if 0 < d <= 15:
            self.b.append((d << 4) | t)
        else:
            self.b.append(t)
            self.b += uvarint(zigzag(fid))
        self.last = fid

    def i32(self, fid, v):
        self._hdr(fid, T_I32)
        self.b += uvarint(zigzag(v) & 0xFFFFFFFFFFFFFFFF)
        return self

    i64 = i32

    def i64(self, fid, v):  # noqa: F811 (same encoding, own type)
        self._hdr(fid, T_I64)
        self.b += uvarint(zigzag(v) & 0xFFFFFFFFFFFFFFFF)
        return self

    def bool(self, fid, v):
        self._hdr(fid, T_TRUE if v else T_FALSE)
        return self

    def bin(self, fid, v):
        if isinstance(v, str):
            v = v.encode()
        self._hdr(fid, T_BIN)
        self.b += uvarint(len(v)) + v
        return self

    def struct(self, fid, w):
        self._hdr(fid, T_STRUCT)
        self.b += w.done()
        return self

    def list(self, fid, etype, items):
        self._hdr(fid, T_LIST)
        n = len(items)
        self.b.append((n << 4) | etype if n < 15 else 0xF0 | etype)
        if n >= 15:
            self.b += uvarint(n)
        for it in items:
            if etype == T_I32:
                self.b += uvarint(zigzag(it))
            elif etype == T_BIN:
                it = it.encode() if isinstance(it, str) else it
                self.b += uvarint(len(it)) + it
            else:
                self.b += it.done()
        return self

    def done(self):
        return bytes(self.b) + b"\x00"


def read_uvarint(buf, pos):
    v = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("varint")
        c = buf[pos]
        pos += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, pos


def page_header_sizes(buf, pos):
    """Spans of PageHeader fields 2 (uncompressed) and 3 (compressed): {fid: (start, end,
    value)}. Writers put fields 1-3 first; anything else raises ValueError."""
    spans, last = {}, 0
    while len(spans) < 2:
        h = buf[pos]
        pos += 1
        t, d = h & 0x0F, h >> 4
        if not d or t != T_I32:
            raise ValueError("unexpected page header layout")
        last += d
        start = pos
        z, pos = read_uvarint(buf, pos)
        if last in (2, 3):
            spans[last] = (start, pos, (z >> 1) ^ -(z & 1))
    return spans


# ---------------------------------------------------------------------------
# A tiny Parquet writer: one column, one row group, pages given as bytes.
# ---------------------------------------------------------------------------

PAGE_DATA, PAGE_DICT = 0, 2
ENC_PLAIN, ENC_RLE, ENC_RLE_DICT = 0, 3, 8
INT32 = 1
CODEC = {"UNCOMPRESSED": 0, "SNAPPY": 1, "GZIP": 2, "ZSTD": 6}


def page_header(ptype, usize, csize, nvals, enc):
    w = W().i32(1, ptype).i32(2, usize).i32(3, csize)
    if ptype == PAGE_DICT:
        w.struct(7, W().i32(1, nvals).i32(2, enc))
    else:
        w.struct(5, W().i32(1, nvals).i32(2, enc).i32(3, ENC_RLE).i32(4, ENC_RLE))
    return w.done()


def build_file(pages, num_rows, codec="UNCOMPRESSED", num_values=None, name=b"x"):
    """pages: [(header_bytes, body_bytes)], the first may be a dictionary page (then
    flag it by its type). A REQUIRED INT32 column `name` (bytes)."""
    out = bytearray(b"PAR1")
    offs = []
    for hdr, body in pages:
        offs.append(len(out))
        out += hdr + body
    chunk_len = len(out) - 4
    has_dict = pages[0][0][0] & 0x0F == T_I32 and _first_page_type(pages[0][0]) == PAGE_DICT
    data_off = offs[1] if has_dict else offs[0]
    cm = (W().i32(1, INT32).list(2, T_I32, [ENC_PLAIN, ENC_RLE] + ([ENC_RLE_DICT] if has_dict else []))
          .list(3, T_BIN, [name]).i32(4, CODEC[codec])
          .i64(5, num_rows if num_values is None else num_values)
          .i64(6, chunk_len).i64(7, chunk_len).i64(9, data_off))
    if has_dict:
        cm.i64(11, offs[0])
    cc = W().i64(2, 4).struct(3, cm)
    rg = W().list(1, T_STRUCT, [cc]).i64(2, chunk_len).i64(3, num_rows)
    schema = [W().bin(4, "schema").i32(5, 1), W().i32(1, INT32).i32(3, 0).bin(4, name)]
    fmd = (W().i32(1, 1).list(2, T_STRUCT, schema).i64(3, num_rows)
           .list(4, T_STRUCT, [rg]).bin(6, "buzzlite test_bad_input"))
    footer = fmd.done()
    out += footer + struct.pack("<I", len(footer)) + b"PAR1"
    return bytes(out)


def _first_page_type(hdr):
    z, _ = read_uvarint(hdr, 1)
    return (z >> 1) ^ -(z & 1)


def plain_i32(vals):
    return b"".join(struct.pack("<i", v) for v in vals)


def gzip_member(data):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

class Case:
    """One query on damaged input. must: substrings the error must contain;
    any_of: one of them must appear; allow_ok: success is also acceptable
    (random damage that may still parse). No must/any_of/allow_ok: a baseline
    that must read, giving `rows` when set."""

    def __init__(self, name, paths, must=(), any_of=(), allow_ok=False, sql="SELECT * FROM t",
                 rows=None):
        self.name, self.paths, self.must, self.any_of = name, list(paths), list(must), list(any_of)
        self.allow_ok, self.sql, self.rows = allow_ok, sql, rows


def derive_cases(tmp):
    cases = []

    def put(name, data):
        p = os.path.join(tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    db = bzlib.connect()
    for src in SOURCES:
        path = os.path.join(DATA, src)
        if not os.path.exists(path):
            continue
        raw = open(path, "rb").read()
        n = len(raw)
        stem = src.replace(".parquet", "")
        flen = struct.unpack("<I", raw[-8:-4])[0]
        fstart = n - 8 - flen
        # truncated at many offsets: the end magic is gone (or the file is tiny)
        for k in sorted({1, 4, 7, 11, 12, 13, 100, fstart, fstart + 1, n // 3, n // 2,
                         n - 100, n - 9, n - 8, n - 5, n - 4, n - 1}):
            if not 0 < k < n:
                continue
            p = put(f"{stem}.trunc{k}.parquet", raw[:k])
            cases.append(Case(f"truncated {src} at {k}", [p], must=[p],
                              any_of=["too small", "bad magic"]))
        # the data region cut out under an intact footer
        for keep in (4, fstart // 2):
            p = put(f"{stem}.chop{keep}.parquet", raw[:keep] + raw[fstart:])
            cases.append(Case(f"chopped {src} to {keep}+footer", [p], must=[p, "row group", "column"]))
        # bad magic
        if n <= 65536:  # larger files: the reader reads only the tail (see the report)
            p = put(f"{stem}.badstart.parquet", b"PAR0" + raw[4:])
            cases.append(Case(f"bad start magic {src}", [p], must=[p, "bad magic at the start"]))
        p = put(f"{stem}.badend.parquet", raw[:-4] + b"PAR0")
        cases.append(Case(f"bad end magic {src}", [p], must=[p, "bad magic at the end"]))
        # footer length larger than the file
        for fl in (n - 7, n, 0x7FFFFFFF, 0xFFFFFFFF):
            p = put(f"{stem}.flen{fl}.parquet", raw[:-8] + struct.pack("<I", fl) + b"PAR1")
            cases.append(Case(f"footer length {fl} in {src} ({n} bytes)", [p],
                              must=[p, f"footer length {fl} exceeds the file"]))
        # corrupt thrift: an unknown field type in the first field header; the
        # footer cut short; every 7th byte inverted; a list with 2^28 elements
        p = put(f"{stem}.thrift-ff.parquet", raw[:fstart] + b"\xff" + raw[fstart + 1:])
        cases.append(Case(f"footer field type 15 in {src}", [p], must=[p, "footer", "thrift"]))
        short = flen // 2
        p = put(f"{stem}.thrift-short.parquet",
                raw[:fstart] + raw[fstart:fstart + short] + struct.pack("<I", short) + b"PAR1")
        cases.append(Case(f"footer cut to {short} bytes in {src}", [p], must=[p, "footer"]))
        fl = bytearray(raw)
        for i in range(fstart, n - 8, 7):
            fl[i] ^= 0xFF
        p = put(f"{stem}.thrift-flip7.parquet", bytes(fl))
        cases.append(Case(f"footer bytes flipped (every 7th) in {src}", [p], must=[p, "footer"]))
        for step in (13, 29):
            for phase in range(3):
                fl = bytearray(raw)
                for i in range(fstart + phase, n - 8, step):
                    fl[i] ^= 1 << (i % 8)
                p = put(f"{stem}.thrift-bit{step}-{phase}.parquet", bytes(fl))
                cases.append(Case(f"footer bits flipped (1/{step}, phase {phase}) in {src}", [p],
                                  must=[p], allow_ok=True))
        # page headers that lie: patch the size varints in place
        meta = db.execute("SELECT row_group, path, data_page_offset, dictionary_page_offset "
                          "FROM parquet_metadata(?) WHERE row_group = 0 LIMIT 2",
                          (path,)).fetchall()
        for rg, colpath, dpo, dict_off in meta:
            for what, off in (("data", dpo), ("dictionary", dict_off)):
                if off is None:
                    continue
                try:
                    spans = page_header_sizes(raw, off)
                except (ValueError, IndexError):
                    continue
                for fid, label in ((2, "uncompressed"), (3, "compressed")):
                    s, e, v = spans[fid]
                    width = e - s
                    lies = {0, v + 1, v - 1, (1 << (7 * width - 1)) - 1, -1}
                    for lie in sorted(lies):
                        if lie == v:
                            continue
                        enc = varint_fixed(lie, width)
                        if enc is None:
                            continue
                        p = put(f"{stem}.{what}{off}.{label}{lie}.parquet", raw[:s] + enc + raw[e:])
                        cases.append(Case(
                            f"{what} page of {colpath} in {src}: {label} size {v} -> {lie}", [p],
                            must=[p, f'row group {rg}, column "{colpath}"']))
    db.close()
    return cases


def handmade_cases(tmp):
    cases = []

    def put(name, data):
        p = os.path.join(tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    col = 'row group 0, column "x"'
    vals = plain_i32(range(10))
    # the writer itself must be right, or the lies below prove nothing
    p = put("hand.ok.parquet", build_file([(page_header(PAGE_DATA, 40, 40, 10, ENC_PLAIN), vals)], 10))
    cases.append(Case("hand-built baseline (must read)", [p], sql="SELECT sum(x) FROM t", rows=[(45,)]))
    p = put("hand.gzip-ok.parquet", build_file(
        [(page_header(PAGE_DATA, 40, len(gzip_member(vals)), 10, ENC_PLAIN), gzip_member(vals))],
        10, codec="GZIP"))
    cases.append(Case("hand-built gzip baseline (must read)", [p], sql="SELECT sum(x) FROM t",
                      rows=[(45,)]))

    def lie(name, usize, csize, body=vals, nvals=10, codec="UNCOMPRESSED", must=(), any_of=()):
        hdr = page_header(PAGE_DATA, usize, csize, nvals, ENC_PLAIN)
        p = put(f"hand.{name}.parquet", build_file([(hdr, body)], 10, codec=codec))
        cases.append(Case(f"hand-built: {name}", [p], must=[p, col, *must], any_of=any_of))

    lie("compressed-size-beyond-file", 40, 100000, must=["claims 100000 bytes"])
    lie("compressed-size-short", 40, 20)
    lie("compressed-size-zero", 40, 0)
    lie("compressed-size-negative", 40, -5)
    lie("uncompressed-size-larger", 80, 40)
    lie("uncompressed-size-smaller", 20, 40)
    lie("uncompressed-size-negative", -1, 40)
    lie("too-many-values", 40, 40, nvals=1000)
    # decompression bombs
    for codec in ("UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD"):
        lie(f"bomb-2147483647-{codec.lower()}", 2147483647, 40, codec=codec,
            must=["page claims 2147483647 bytes uncompressed", LIMIT_MSG])
    lie("bomb-268435457", 268435457, 40, codec="SNAPPY",
        must=["page claims 268435457 bytes uncompressed", LIMIT_MSG])
    member = gzip_member(bytes(64 << 20))  # 64 MiB of zeros, ~64 KiB compressed
    bomb = member * 32                      # 2 GiB when decompressed
    lie("gzip-bomb-claims-1000", 1000, len(bomb), body=bomb, codec="GZIP")
    lie("gzip-bomb-claims-limit", 268435456, len(bomb), body=bomb, codec="GZIP")
    # dictionary indices out of range: 2 entries, indices 7 (bit width 3)
    dict_page = (page_header(PAGE_DICT, 8, 8, 2, ENC_PLAIN), plain_i32([10, 20]))
    for name, body, must in (
            ("dict-index-7-of-2", bytes([3, 10 << 1, 7]), ["dictionary index 7 out of range"]),
            ("dict-index-bitpacked", bytes([3, (2 << 1) | 1]) + bytes([0xFF] * 6),
             ["dictionary index 7 out of range"]),
            ("dict-bit-width-40", bytes([40, 10 << 1, 1]), ["bit width"]),
            ("dict-indices-end-early", bytes([1, 2 << 1, 1]), ["end early"])):
        data_page = (page_header(PAGE_DATA, len(body), len(body), 10, ENC_RLE_DICT), body)
        p = put(f"hand.{name}.parquet", build_file([dict_page, data_page], 10))
        cases.append(Case(f"hand-built: {name}", [p], must=[p, col, *must]))
    good = bytes([1, 10 << 1, 1])
    p = put("hand.dict-ok.parquet", build_file(
        [dict_page, (page_header(PAGE_DATA, 3, 3, 10, ENC_RLE_DICT), good)], 10))
    cases.append(Case("hand-built dictionary baseline (must read)", [p], sql="SELECT sum(x) FROM t",
                      rows=[(200,)]))
    p = put("hand.dict-claims-1000.parquet", build_file(
        [(page_header(PAGE_DICT, 8, 8, 1000, ENC_PLAIN), plain_i32([10, 20])),
         (page_header(PAGE_DATA, 3, 3, 10, ENC_RLE_DICT), good)], 10))
    cases.append(Case("hand-built: dictionary claims 1000 values in 8 bytes", [p], must=[p, col]))
    # a column name that is not UTF-8: a clean error, or a table whose names are UTF-8
    p = put("hand.name-not-utf8.parquet", build_file(
        [(page_header(PAGE_DATA, 40, 40, 10, ENC_PLAIN), vals)], 10, name=b"b_str\xf5ct"))
    cases.append(Case("hand-built: column name not UTF-8", [p], must=[p], allow_ok=True))
    return cases


def not_parquet_cases(tmp):
    cases = []
    p = os.path.join(tmp, "text.parquet")
    with open(p, "w") as f:
        f.write("id,name\n1,this is a CSV file, not Parquet\n" * 40)
    cases.append(Case("a text file", [p], must=[p, "not a Parquet file"]))
    p = os.path.join(tmp, "tiny.parquet")
    with open(p, "wb") as f:
        f.write(b"PAR1PAR1")
    cases.append(Case("an 8-byte file", [p], must=[p, "too small"]))
    p = os.path.join(tmp, "empty.parquet")
    open(p, "wb").close()
    cases.append(Case("an empty file", [p], must=[p, "too small", "(0 bytes)"]))
    # Paths matching no file make an empty table, as S3 listings do (an error
    # only with require_files=1, tested in tests/sql/parquet_err_no_match.sql).
    d = os.path.join(tmp, "emptydir")
    os.mkdir(d)
    cases.append(Case("a directory with no files: empty table", [d], sql="SELECT count(*) FROM t",
                      rows=[(0,)]))
    g = os.path.join(tmp, "nothing-*.parquet")
    cases.append(Case("a glob matching nothing: empty table", [g], sql="SELECT count(*) FROM t",
                      rows=[(0,)]))
    g = os.path.join(tmp, "emptydir", "**", "*.parquet")
    cases.append(Case("a recursive glob matching nothing: empty table", [g],
                      sql="SELECT count(*) FROM t", rows=[(0,)]))
    p = os.path.join(tmp, "missing.parquet")
    cases.append(Case("a missing file", [p], must=[p, "No such file"]))
    # bad leading magic in a file larger than the tail read (64 KiB)
    big = os.path.join(DATA, "delta_byte_array.parquet")
    with open(big, "rb") as f:
        data = f.read()
    assert len(data) > 65536
    p = os.path.join(tmp, "bad-start-magic-big.parquet")
    with open(p, "wb") as f:
        f.write(b"PAR0" + data[4:])
    cases.append(Case("bad magic at the start of a large file", [p],
                      must=[p, "bad magic at the start"]))
    return cases


# ---------------------------------------------------------------------------
# Running cases in children
# ---------------------------------------------------------------------------

_CHILD = r"""
import json, os, resource, sqlite3, sys
ext, limit = sys.argv[1], int(sys.argv[2])
if limit:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
for line in sys.stdin:
    job = json.loads(line)
    res = {"i": job["i"]}
    try:
        db = sqlite3.connect(":memory:")
        db.text_factory = bytes  # damaged annotations may label non-UTF-8 bytes as text
        db.enable_load_extension(True)
        db.load_extension(ext)
        args = ", ".join("'" + p.replace("'", "''") + "'" for p in job["paths"])
        db.execute(f"CREATE VIRTUAL TABLE t USING parquet({args})")
        rows = db.execute(job["sql"]).fetchall()
        res.update(status="ok", rows=len(rows), first=repr(rows[:1]), all=repr(rows[:5]))
        db.close()
    except sqlite3.Error as e:
        res.update(status="error", error=str(e))
    except BaseException as e:  # MemoryError under RLIMIT_AS, ...
        res.update(status="pyexc", error=f"{type(e).__name__}: {e}")
    print(json.dumps(res), flush=True)
"""


def run_cases(cases, limit):
    """Run cases in children; returns {index: result dict}. A child that dies or
    hangs is blamed for the case it had been given last and replaced."""
    results = {}
    i = 0
    while i < len(cases):
        errf = tempfile.TemporaryFile()
        child = subprocess.Popen([sys.executable, "-c", _CHILD, E["ext"], str(limit)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errf,
                                 start_new_session=True)
        died = None
        while i < len(cases):
            c = cases[i]
            t0 = time.monotonic()
            try:
                child.stdin.write((json.dumps({"i": i, "paths": c.paths, "sql": c.sql}) + "\n").encode())
                child.stdin.flush()
            except BrokenPipeError:
                died = "child gone"
                break
            line = b""
            while not line.endswith(b"\n"):
                left = CASE_TIMEOUT - (time.monotonic() - t0)
                r, _, _ = select.select([child.stdout], [], [], max(left, 0))
                if not r:
                    died = f"timeout after {CASE_TIMEOUT:.0f}s"
                    break
                chunk = os.read(child.stdout.fileno(), 65536)
                if not chunk:
                    died = "child died"
                    break
                line += chunk
            if died:
                break
            res = json.loads(line)
            res["seconds"] = time.monotonic() - t0
            results[i] = res
            i += 1
        if died:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            child.stdin.close()
        st = child.wait()
        if died:
            detail = died
            if st < 0:
                detail = f"signal {signal.Signals(-st).name}"
            elif st > 0:
                detail = f"exit status {st}"
            if died.startswith("timeout"):
                detail = died
            errf.seek(0)
            lines = errf.read().decode("utf-8", "replace").strip().splitlines()
            key = [x for x in lines if any(w in x for w in ("runtime error", "ERROR", "SUMMARY"))]
            tail = (key or lines)[-6:]
            results[i] = {"i": i, "status": "crash", "error": detail, "stderr": "\n".join(tail)}
            i += 1
        errf.close()
    return results


def judge(c, r):
    """None if the result is what the case requires, else why not."""
    st = r["status"]
    if st == "crash":
        return f"{r['error']}" + (f"\n        {r['stderr']}" if r.get("stderr") else "")
    if st == "pyexc":
        if r["error"].startswith("UnicodeDecodeError") and c.allow_ok:
            if "flipped" in c.name:  # the deterministic case below reports it once
                return None
            return ("the table declares a column name that is not valid UTF-8 (python's "
                    f"sqlite3 cannot decode it): {r['error']}")
        return f"python exception in the child: {r['error']}"
    if not c.must and not c.any_of and not c.allow_ok:  # a baseline: must read
        if st != "ok":
            return f"expected rows, got error: {r['error']}"
        if c.rows is not None and r["all"] != repr(c.rows):
            return f"expected {c.rows!r}, got {r['all']}"
        return None
    if st == "ok":
        return None if c.allow_ok else f"expected an error, got {r['rows']} rows {r['first']}"
    msg = r["error"]
    if not msg.startswith("parquet"):
        return f"error does not come from the parquet table: {msg}"
    missing = [m for m in c.must if m not in msg]
    if c.any_of and not any(m in msg for m in c.any_of):
        missing.append(" or ".join(repr(m) for m in c.any_of))
    if missing:
        return f"message lacks {', '.join(map(str, missing))}: {msg}"
    return None


def main():
    t_start = time.monotonic()
    if not os.path.isdir(DATA):
        print(f"FAIL: {DATA} not found (set BZ_SHARED)")
        return 1
    limit = 0 if E["san"] else AS_LIMIT
    if E["san"]:
        print("note: BZ_SAN=1: RLIMIT_AS not set (ASan's shadow memory needs terabytes of "
              "address space); allocations are not bounded by this run")
    else:
        print(f"note: each child runs with RLIMIT_AS = {AS_LIMIT >> 20} MiB")
    tmp = tempfile.mkdtemp(prefix="bzbad")
    try:
        cases = derive_cases(tmp) + handmade_cases(tmp) + not_parquet_cases(tmp)
        results = run_cases(cases, limit)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    failed = 0
    for i, c in enumerate(cases):
        r = results[i]
        why = judge(c, r)
        secs = r.get("seconds", 0.0)
        if why:
            failed += 1
            print(f"FAIL {c.name}: {why}")
        else:
            shown = r.get("error") or f"{r.get('rows')} rows"
            print(f"ok   {c.name} ({secs:.2f}s): {shown[:160]}")
    total = time.monotonic() - t_start
    print(f"{len(cases)} cases, {failed} failed, {total:.1f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
