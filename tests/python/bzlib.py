"""Shared helpers for buzzlite's Python tests (Debian's /usr/bin/python3).

What is here:
  - env(): the paths tests/run.sh exports (BZ_EXT, BZ_ROOT, BZ_BUILD, BZ_SHARED, BZ_SAN).
  - connect(): an sqlite3 connection with the extension loaded.
  - run_isolated(): run a query in a child python so that a crash, a hang or a
    huge allocation of the extension is reported instead of killing the test;
    returns the rows, the error, the exit status and the child's peak RSS.
  - parse_type(): DuckDB type names ("STRUCT(a INTEGER, b VARCHAR[])") as trees.
  - canon_expected() / canon_got() / compare(): bring a value to a canonical Python
    form and compare it. The expected side is DuckDB's JSON rendering (the
    parquet-testing expectations, the round-trip expectations); the got side is
    what SQLite returns through the parquet virtual table, whose contract is:
        integers -> INTEGER, FLOAT/DOUBLE/FLOAT16 -> REAL (NaN reads as NULL),
        BOOLEAN -> 0/1, strings/ENUM/JSON/UUID -> TEXT, BYTE_ARRAY -> BLOB,
        DECIMAL -> REAL (TEXT with decimal_as_text=1), DATE -> 'YYYY-MM-DD',
        TIMESTAMP/INT96 -> 'YYYY-MM-DD HH:MM:SS[.fff...]' UTC, TIME -> 'HH:MM:SS[.f]',
        LIST/STRUCT/MAP -> JSON text (maps as objects or [{"key":..,"value":..}]).
    Values are compared, not spellings: timestamps as integer nanoseconds since the
    epoch, floats with a relative tolerance, maps as ordered (key, value) pairs.

Usage:
    import bzlib
    db = bzlib.connect()
    db.execute(f"CREATE VIRTUAL TABLE t USING parquet({bzlib.sql_str(path)})")
    why = bzlib.compare(bzlib.parse_type("INTEGER[]"), [1, 2], "[1,2]")  # None if equal
"""

import decimal
import json
import math
import os
import pickle
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REL_TOL = 1e-6


def env():
    root = os.environ.get("BZ_ROOT") or os.path.abspath(os.path.join(HERE, "..", ".."))
    build = os.environ.get("BZ_BUILD") or os.path.join(root, "build")
    return {
        "root": root,
        "build": build,
        "ext": os.environ.get("BZ_EXT") or os.path.join(build, "buzzlite"),
        "shared": os.environ.get("BZ_SHARED") or os.path.abspath(os.path.join(root, "..", "shared")),
        "san": os.environ.get("BZ_SAN") == "1",
    }


def connect(path=":memory:"):
    """An sqlite3 connection with buzzlite loaded; raises if loading fails."""
    db = sqlite3.connect(path)
    db.enable_load_extension(True)
    db.load_extension(env()["ext"])
    db.enable_load_extension(False)
    return db


def sql_str(s):
    """s as an SQL string literal."""
    return "'" + str(s).replace("'", "''") + "'"


def create_sql(table, paths, options=None):
    args = [sql_str(p) for p in paths]
    for k, v in (options or {}).items():
        args.append(f"{k}={v}")
    return f"CREATE VIRTUAL TABLE {table} USING parquet({', '.join(args)})"


# ---------------------------------------------------------------------------
# Isolated execution
# ---------------------------------------------------------------------------

_CHILD = r"""
import pickle, sqlite3, sys
sys.path.insert(0, sys.argv[1])
import bzlib
job = pickle.load(open(sys.argv[2], "rb"))
out = {"phase": "load", "columns": None, "rows": [], "nrows": 0, "results": []}
def dump():
    with open(sys.argv[3], "wb") as f:
        pickle.dump(out, f)
try:
    db = bzlib.connect()
    out["phase"] = "create"
    db.execute(bzlib.create_sql("t", job["paths"], job.get("options")))
    for sql in job.get("setup", []):
        db.execute(sql)
    out["phase"] = "query"
    cur = db.execute(job.get("sql", "SELECT * FROM t"))
    out["columns"] = [d[0] for d in cur.description] if cur.description else []
    keep = job.get("keep", -1)
    n = 0
    while True:
        batch = cur.fetchmany(512)
        if not batch:
            break
        for r in batch:
            if keep < 0 or n < keep:
                out["rows"].append(r)
            n += 1
    out["nrows"] = n
    for sql in job.get("more", []):
        try:
            out["results"].append(db.execute(sql).fetchall())
        except sqlite3.Error as e:
            out["results"].append(("error", "%s: %s" % (type(e).__name__, e)))
    out["phase"] = "done"
except Exception as e:
    out["error"] = "%s: %s" % (type(e).__name__, e)
dump()
"""


class Isolated:
    """Result of run_isolated(): status is 'ok', 'error', 'crash' or 'timeout'."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def describe(self):
        if self.status == "ok":
            return "ok"
        if self.status == "error":
            return f"sqlite error during {self.phase}: {self.error}"
        tail = self.stderr.strip().splitlines()[-6:]
        return f"{self.status} ({self.detail}); stderr tail: " + " | ".join(tail)


def run_isolated(paths, options=None, sql="SELECT * FROM t", keep=-1, timeout=30.0, more=(),
                 setup=()):
    """Open `paths` as table t in a child python, run `sql`, return an Isolated with:
    status, phase, error, columns, rows (the first `keep` rows, all if -1), nrows,
    results (rows of each statement in `more`, or ("error", message)), maxrss_kib (the child's peak RSS),
    seconds, stderr. A signal, a non-zero exit or `timeout` seconds is reported,
    never raised."""
    with tempfile.TemporaryDirectory(prefix="bziso") as tmp:
        jobf, outf, errf = (os.path.join(tmp, n) for n in ("job", "out", "err"))
        with open(jobf, "wb") as f:
            pickle.dump({"paths": list(paths), "options": options, "sql": sql, "keep": keep,
                         "more": list(more), "setup": list(setup)}, f)
        t0 = time.monotonic()
        with open(errf, "wb") as ef:
            p = subprocess.Popen([sys.executable, "-c", _CHILD, HERE, jobf, outf],
                                 stdin=subprocess.DEVNULL, stdout=ef, stderr=ef,
                                 start_new_session=True)
        status = None
        ru = None
        timed_out = False
        while True:
            pid, st, ru_ = os.wait4(p.pid, os.WNOHANG)
            if pid:
                status, ru = st, ru_
                break
            if time.monotonic() - t0 > timeout:
                timed_out = True
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                _, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.005)
        p.returncode = -1  # reaped by wait4; keep Popen from waiting again
        secs = time.monotonic() - t0
        stderr = open(errf, "rb").read().decode("utf-8", "replace")
        res = dict(status="ok", phase=None, error=None, columns=None, rows=[], nrows=0, results=[],
                   maxrss_kib=ru.ru_maxrss if ru else 0, seconds=secs, stderr=stderr, detail="")
        if timed_out:
            res.update(status="timeout", detail=f"killed after {timeout:.0f}s")
            return Isolated(**res)
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            res.update(status="crash", detail=f"signal {signal.Signals(sig).name}")
            return Isolated(**res)
        code = os.WEXITSTATUS(status)
        if code != 0 or not os.path.exists(outf):
            res.update(status="crash", detail=f"exit status {code}")
            return Isolated(**res)
        out = pickle.load(open(outf, "rb"))
        res.update(phase=out["phase"], columns=out["columns"], rows=out["rows"],
                   nrows=out["nrows"], results=out["results"])
        if "error" in out:
            res.update(status="error", error=out["error"])
        return Isolated(**res)


# ---------------------------------------------------------------------------
# DuckDB type names
# ---------------------------------------------------------------------------

class T:
    """A DuckDB type: kind is the base name (INTEGER, DECIMAL, LIST, STRUCT, MAP, ...);
    child (LIST), fields [(name, T)] (STRUCT), key/value (MAP), params (DECIMAL)."""

    def __init__(self, kind, child=None, fields=None, key=None, value=None, params=()):
        self.kind, self.child, self.fields = kind, child, fields
        self.key, self.value, self.params = key, value, params

    def __repr__(self):
        if self.kind == "LIST":
            return f"{self.child!r}[]"
        if self.kind == "STRUCT":
            return "STRUCT(" + ", ".join(f"{n} {t!r}" for n, t in self.fields) + ")"
        if self.kind == "MAP":
            return f"MAP({self.key!r}, {self.value!r})"
        return self.kind + (f"({','.join(map(str, self.params))})" if self.params else "")

    @property
    def nested(self):
        return self.kind in ("LIST", "STRUCT", "MAP", "UNION")


_MULTIWORD = ("TIMESTAMP WITH TIME ZONE", "TIME WITH TIME ZONE", "DOUBLE PRECISION")


def _tokens(s):
    out, pos = [], 0
    while pos < len(s):
        if s[pos].isspace():
            pos += 1
            continue
        for mw in _MULTIWORD:
            if s.upper().startswith(mw, pos):
                out.append(("id", mw))
                pos += len(mw)
                break
        else:
            c = s[pos]
            if c == '"':
                j = pos + 1
                while True:
                    j = s.index('"', j)
                    if s.startswith('""', j):
                        j += 2
                        continue
                    break
                out.append(("id", s[pos + 1:j].replace('""', '"')))
                pos = j + 1
            elif c == "'":
                j = pos + 1
                while True:
                    j = s.index("'", j)
                    if s.startswith("''", j):
                        j += 2
                        continue
                    break
                out.append(("str", s[pos + 1:j]))
                pos = j + 1
            elif c == "[":
                j = s.index("]", pos)
                out.append(("arr", s[pos:j + 1]))
                pos = j + 1
            elif c in "(),":
                out.append((c, c))
                pos += 1
            else:
                m = re.compile(r"[A-Za-z0-9_$.\-]+").match(s, pos)
                if not m:
                    raise ValueError(f"bad type text at {pos}: {s!r}")
                out.append(("id", m.group(0)))
                pos = m.end()
    return out


def parse_type(s):
    toks = _tokens(s)
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else (None, None)

    def take(kind=None):
        t = toks[pos[0]]
        if kind and t[0] != kind:
            raise ValueError(f"type {s!r}: expected {kind} at token {pos[0]}, got {t}")
        pos[0] += 1
        return t

    def one():
        _, name = take("id")
        up = name.upper()
        t = None
        if up in ("STRUCT", "ROW", "UNION"):
            take("(")
            fields = []
            while True:
                _, fname = take("id")
                fields.append((fname, one()))
                if peek()[0] == ",":
                    take(",")
                    continue
                take(")")
                break
            t = T("STRUCT" if up != "UNION" else "UNION", fields=fields)
        elif up == "MAP":
            take("(")
            k = one()
            take(",")
            v = one()
            take(")")
            t = T("MAP", key=k, value=v)
        else:
            params = []
            if peek()[0] == "(":
                take("(")
                while peek()[0] != ")":
                    tk = take()
                    if tk[0] != ",":
                        params.append(tk[1])
                take(")")
            if up in ("DECIMAL", "NUMERIC"):
                up = "DECIMAL"
                params = [int(p) for p in params] or [18, 3]
            t = T(up, params=tuple(params))
        while peek()[0] == "arr":
            take()
            t = T("LIST", child=t)
        return t

    t = one()
    if pos[0] != len(toks):
        raise ValueError(f"trailing text in type {s!r}")
    return t


# ---------------------------------------------------------------------------
# Temporal values: text <-> integer nanoseconds, any year (proleptic Gregorian)
# ---------------------------------------------------------------------------

def days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_DATE_RE = re.compile(r"^\s*([+-]?)(\d{1,9})-(\d{1,2})-(\d{1,2})(?:\s*\(BC\))?")
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?")
_TZ_RE = re.compile(r"\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?(?::?\d{2})?)?\s*$")


class BadTemporal(ValueError):
    pass


def _frac_ns(f):
    return int((f or "0").ljust(9, "0")[:9])


def _tz_ns(tz):
    if not tz or tz in ("Z", "UTC"):
        return 0
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    h, m, s = int(digits[0:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    return sign * ((h * 60 + m) * 60 + s) * 10**9


def parse_date(s):
    """'YYYY-MM-DD' (also '-YYYY..', 'YYYY-MM-DD (BC)') -> days since 1970-01-01."""
    m = _DATE_RE.match(s)
    if not m or len(s[m.end():].strip()) > 0:
        raise BadTemporal(f"not a date: {s!r}")
    y = int(m.group(2))
    if m.group(1) == "-":
        y = -y
    if "(BC)" in s:
        y = 1 - y  # DuckDB prints year 0 as '0001 (BC)'
    return days_from_civil(y, int(m.group(3)), int(m.group(4)))


def parse_timestamp(s):
    """'YYYY-MM-DD[ T]HH:MM:SS[.f{1,9}][Z|+HH[:MM]]' (or a bare date) -> ns since the epoch, UTC."""
    if not isinstance(s, str):
        raise BadTemporal(f"not text: {s!r}")
    m = _DATE_RE.match(s)
    if not m:
        raise BadTemporal(f"not a timestamp: {s!r}")
    y = int(m.group(2))
    if m.group(1) == "-":
        y = -y
    if "(BC)" in s:
        y = 1 - y
    rest = s[m.end():].replace("(BC)", "").strip()
    ns = days_from_civil(y, int(m.group(3)), int(m.group(4))) * 86400 * 10**9
    if rest.startswith("T"):
        rest = rest[1:]
    if rest:
        t = _TIME_RE.match(rest)
        if not t:
            raise BadTemporal(f"not a timestamp: {s!r}")
        tz = _TZ_RE.match(rest, t.end())
        if not tz:
            raise BadTemporal(f"not a timestamp: {s!r}")
        ns += ((int(t.group(1)) * 60 + int(t.group(2))) * 60 + int(t.group(3) or 0)) * 10**9
        ns += _frac_ns(t.group(4))
        ns -= _tz_ns(tz.group(1))
    return ns


def parse_time(s):
    """'HH:MM:SS[.f][+HH[:MM]]' -> ns since midnight (UTC if an offset is given)."""
    if not isinstance(s, str):
        raise BadTemporal(f"not text: {s!r}")
    t = _TIME_RE.match(s.strip())
    tz = t and _TZ_RE.match(s.strip(), t.end())
    if not t or not tz:
        raise BadTemporal(f"not a time: {s!r}")
    ns = ((int(t.group(1)) * 60 + int(t.group(2))) * 60 + int(t.group(3) or 0)) * 10**9
    return ns + _frac_ns(t.group(4)) - _tz_ns(tz.group(1))


def fmt_ns(ns):
    """Readable form of ns since the epoch, for messages."""
    days, rem = divmod(ns, 86400 * 10**9)
    return f"day {days} + {rem} ns"


# ---------------------------------------------------------------------------
# Blobs and geometry
# ---------------------------------------------------------------------------

def duck_blob(s):
    """DuckDB renders BLOB as text: bytes 0x20..0x7E except \\ ' " as themselves,
    everything else as \\xHH. Returns the bytes."""
    out = bytearray()
    i = 0
    while i < len(s):
        if s.startswith("\\x", i) and i + 4 <= len(s):
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        else:
            out += s[i].encode("utf-8")
            i += 1
    return bytes(out)


_GEOM_NAMES = {1: "POINT", 2: "LINESTRING", 3: "POLYGON", 4: "MULTIPOINT", 5: "MULTILINESTRING",
               6: "MULTIPOLYGON", 7: "GEOMETRYCOLLECTION"}


def wkb_to_geom(b):
    """ISO/EWKB bytes -> (TYPE, dims, parts) with parts nested lists of coordinate tuples;
    an all-NaN POINT is EMPTY (parts None)."""
    pos = [0]

    def rd(fmt, n):
        v = struct.unpack_from(fmt, b, pos[0])
        pos[0] += n
        return v

    def geom():
        (order,) = rd("B", 1)
        e = "<" if order == 1 else ">"
        (code,) = rd(e + "I", 4)
        z = m = False
        if code & 0x80000000:
            z = True
        if code & 0x40000000:
            m = True
        if code & 0x20000000:
            rd(e + "I", 4)  # EWKB SRID
        code &= 0x0FFFFFFF
        base, dim = code % 1000, code // 1000
        z = z or dim in (1, 3)
        m = m or dim in (2, 3)
        nd = 2 + z + m
        dims = ("Z" if z else "") + ("M" if m else "")

        def pt():
            return rd(e + "d" * nd, 8 * nd)

        def pts():
            (n,) = rd(e + "I", 4)
            return [pt() for _ in range(n)]

        name = _GEOM_NAMES.get(base)
        if name is None:
            raise ValueError(f"WKB type {code}")
        if base == 1:
            p = pt()
            return (name, dims, None if all(math.isnan(c) for c in p) else p)
        if base == 2:
            v = pts()
        elif base == 3:
            (n,) = rd(e + "I", 4)
            v = [pts() for _ in range(n)]
        else:
            (n,) = rd(e + "I", 4)
            v = [geom() for _ in range(n)]
            if base in (4, 5, 6):
                v = [g[2] for g in v]
        return (name, dims, v if v else None)

    return geom()


_WKT_TOK = re.compile(r"\s*([A-Za-z]+|\(|\)|,|[-+0-9.eE]+|nan|-?inf)")


def wkt_to_geom(s):
    toks = [t for t in _WKT_TOK.findall(s)]
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else None

    def take():
        pos[0] += 1
        return toks[pos[0] - 1]

    def num(t):
        return float(t)

    def coords():
        c = []
        while peek() not in (",", ")"):
            c.append(num(take()))
        return tuple(c)

    def seq(inner):
        take()  # (
        out = [inner()]
        while peek() == ",":
            take()
            out.append(inner())
        take()  # )
        return out

    def geom():
        name = take().upper()
        dims = ""
        if peek() and peek().upper() in ("Z", "M", "ZM"):
            dims = take().upper()
        if peek() and peek().upper() == "EMPTY":
            take()
            return (name, dims, None)
        if name == "POINT":
            return (name, dims, seq(coords)[0])
        if name == "LINESTRING":
            return (name, dims, seq(coords))
        if name == "POLYGON":
            return (name, dims, seq(lambda: seq(coords)))
        if name == "MULTIPOINT":
            def mp():
                if peek() == "(":
                    return seq(coords)[0]
                return coords()
            return (name, dims, seq(mp))
        if name == "MULTILINESTRING":
            return (name, dims, seq(lambda: seq(coords)))
        if name == "MULTIPOLYGON":
            return (name, dims, seq(lambda: seq(lambda: seq(coords))))
        if name == "GEOMETRYCOLLECTION":
            return (name, dims, seq(geom))
        raise ValueError(f"WKT {name}")

    return geom()


def _geom_eq(a, b):
    if isinstance(a, tuple) and len(a) == 3 and isinstance(a[0], str):
        return isinstance(b, tuple) and a[0] == b[0] and a[1] == b[1] and _geom_eq(a[2], b[2])
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_geom_eq(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return isinstance(b, float) and (math.isnan(a) and math.isnan(b) or _close(a, b))
    return a == b


# ---------------------------------------------------------------------------
# Canonical values and comparison
# ---------------------------------------------------------------------------

INT_KINDS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
             "UBIGINT", "HUGEINT", "UHUGEINT", "INT1", "INT2", "INT4", "INT8", "INT", "UINT64"}
FLOAT_KINDS = {"FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8", "DOUBLE PRECISION"}
TS_KINDS = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP_US",
            "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "DATETIME"}
TIME_KINDS = {"TIME", "TIME WITH TIME ZONE", "TIMETZ", "TIME_NS"}
TEXT_KINDS = {"VARCHAR", "UUID", "JSON", "ENUM", "STRING", "TEXT", "BIT", "INTERVAL"}


class Mismatch(Exception):
    pass


def _close(a, b, tol=REL_TOL):
    if a == b:
        return True
    if math.isinf(a) or math.isinf(b) or math.isnan(a) or math.isnan(b):
        return False
    return abs(a - b) <= tol * max(abs(a), abs(b)) or abs(a - b) < 1e-300


class Pairs(list):
    """A JSON object kept as its ordered (key, value) pairs (duplicate keys survive)."""


def json_loads(s):
    return json.loads(s, object_pairs_hook=Pairs, parse_float=decimal.Decimal)


class Canon:
    """Canonical forms: int, float (None = NULL/NaN), Decimal, str, bytes, ('ts', ns),
    ('date', days), ('time', ns), ('geom', tree), list, ('struct', {name: v}),
    ('map', [(k, v)])."""


def _num(v):
    if isinstance(v, bool):
        return int(v)
    return v


def canon(t, v, side, opts=None):
    """Canonical form of v, a value of DuckDB type t. side is 'exp' (DuckDB's JSON
    rendering, or the round-trip expectations' SQLite-style rendering: bool as 0/1,
    blob as {'hex': ...}) or 'got' (a value from sqlite3, top level), or 'gotjson'
    (inside the JSON text of a nested value from the extension). Raises Mismatch when v
    has the wrong representation for its side."""
    opts = opts or {}
    k = t.kind
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v) and k in FLOAT_KINDS:
        return None  # SQLite stores NaN as NULL; JSON has no NaN
    if side == "got" and t.nested:
        if not isinstance(v, str):
            raise Mismatch(f"nested value must be JSON text, got {type(v).__name__} {v!r:.80}")
        try:
            v = json_loads(v)
        except ValueError as e:
            raise Mismatch(f"invalid JSON text {v!r:.120}: {e}")
        side = "gotjson"
    if k == "BOOLEAN":
        if side == "got" and not isinstance(v, int):
            raise Mismatch(f"BOOLEAN must be INTEGER 0/1, got {v!r}")
        if isinstance(v, (bool, int)) and not isinstance(v, float) and int(v) in (0, 1):
            return int(v)
        if isinstance(v, str) and v in ("true", "false"):
            return int(v == "true")
        raise Mismatch(f"bad BOOLEAN {v!r}")
    if k in INT_KINDS:
        v = _num(v)
        if isinstance(v, int):
            return v
        if isinstance(v, decimal.Decimal) and v == v.to_integral_value():
            return int(v)
        if isinstance(v, float) and side != "exp" and k in ("UBIGINT", "HUGEINT", "UHUGEINT"):
            return v  # out of INT64 range: REAL is a fair rendering, compared with tolerance
        if isinstance(v, str) and side != "exp" and k in ("UBIGINT", "HUGEINT", "UHUGEINT") and re.fullmatch(r"-?\d+", v):
            return int(v)
        raise Mismatch(f"{k} must be INTEGER, got {type(v).__name__} {v!r:.60}")
    if k in FLOAT_KINDS:
        v = _num(v)
        if side == "got" and not isinstance(v, float):
            raise Mismatch(f"{k} must be REAL, got {type(v).__name__} {v!r:.60}")
        if isinstance(v, (int, float, decimal.Decimal)):
            f = float(v)
            return None if math.isnan(f) else f
        if isinstance(v, str) and v.lower() in ("nan", "-nan"):
            return None
        if isinstance(v, str) and v.lower() in ("inf", "infinity", "-inf", "-infinity"):
            return float(v.replace("inity", ""))
        raise Mismatch(f"bad {k} {v!r:.60}")
    if k == "DECIMAL":
        if isinstance(v, bool):
            raise Mismatch(f"bad DECIMAL {v!r}")
        if side == "got":
            if opts.get("decimal_as_text"):
                if not isinstance(v, str):
                    raise Mismatch(f"DECIMAL with decimal_as_text=1 must be TEXT, got {v!r}")
                try:
                    return decimal.Decimal(v)
                except decimal.InvalidOperation:
                    raise Mismatch(f"bad DECIMAL text {v!r}")
            if not isinstance(v, float):
                raise Mismatch(f"DECIMAL must be REAL, got {type(v).__name__} {v!r:.60}")
            return v
        if isinstance(v, (int, float, decimal.Decimal)):
            return v
        if isinstance(v, str):
            try:
                return decimal.Decimal(v)
            except decimal.InvalidOperation:
                pass
        raise Mismatch(f"bad DECIMAL {v!r:.60}")
    if k in TS_KINDS or k == "DATE":
        if not isinstance(v, str):
            raise Mismatch(f"{k} must be TEXT, got {type(v).__name__} {v!r:.60}")
        try:
            if k == "DATE":
                return ("date", parse_date(v))
            return ("ts", parse_timestamp(v))
        except BadTemporal as e:
            raise Mismatch(str(e))
    if k in TIME_KINDS:
        if not isinstance(v, str):
            raise Mismatch(f"{k} must be TEXT, got {type(v).__name__} {v!r:.60}")
        try:
            return ("time", parse_time(v))
        except BadTemporal as e:
            raise Mismatch(str(e))
    if k == "BLOB":
        if side == "exp":
            if isinstance(v, Pairs) and dict(v).get("hex") is not None:
                return bytes.fromhex(dict(v)["hex"])
            if isinstance(v, dict) and "hex" in v:
                return bytes.fromhex(v["hex"])
            if not isinstance(v, str):
                raise Mismatch(f"bad expected BLOB {v!r:.60}")
            return duck_blob(v)
        if side == "got":
            if isinstance(v, bytes):
                return v
            if isinstance(v, str) and opts.get("binary_as_string"):
                return v.encode("utf-8", "surrogateescape")
            raise Mismatch(f"BLOB must be a BLOB, got {type(v).__name__} {v!r:.60}")
        # Inside JSON there is no BLOB: accept DuckDB's \xHH escapes, base64 is not
        # accepted (ambiguous); plain text compares as UTF-8.
        if isinstance(v, str):
            return duck_blob(v) if "\\x" in v else v.encode("utf-8", "surrogateescape")
        raise Mismatch(f"bad BLOB in JSON {v!r:.60}")
    if k == "GEOMETRY" or k == "GEOGRAPHY":
        try:
            if isinstance(v, bytes):
                return ("geom", wkb_to_geom(v))
            if isinstance(v, str):
                return ("geom", wkt_to_geom(v))
        except (ValueError, struct.error, IndexError) as e:
            raise Mismatch(f"unreadable geometry {v!r:.80}: {e}")
        raise Mismatch(f"bad GEOMETRY {v!r:.60}")
    if k == "UUID":
        if not isinstance(v, str):
            raise Mismatch(f"UUID must be TEXT, got {type(v).__name__} {v!r:.60}")
        if side != "exp" and not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", v):
            raise Mismatch(f"UUID must be canonical lower-case 8-4-4-4-12 text, got {v!r}")
        return v.lower()
    if k in TEXT_KINDS:
        if not isinstance(v, str):
            raise Mismatch(f"{k} must be TEXT, got {type(v).__name__} {v!r:.60}")
        return v
    if k == "LIST":
        if not isinstance(v, list) or isinstance(v, Pairs):
            raise Mismatch(f"LIST must be a JSON array, got {v!r:.80}")
        return [canon(t.child, x, side, opts) for x in v]
    if k == "STRUCT":
        if isinstance(v, dict):
            v = Pairs(v.items())
        if not isinstance(v, Pairs):
            raise Mismatch(f"STRUCT must be a JSON object, got {v!r:.80}")
        d = dict(v)
        names = [n for n, _ in t.fields]
        if sorted(d) != sorted(names):
            raise Mismatch(f"STRUCT fields {sorted(d)} != {sorted(names)}")
        return ("struct", {n: canon(ft, d[n], side, opts) for n, ft in t.fields})
    if k == "MAP":
        return ("map", _map_pairs(t, v, side, opts))
    if k == "UNION":
        return json.dumps(v, default=str)
    # Unknown type: compare the text.
    return v if isinstance(v, (str, int, float)) else json.dumps(v, default=str)


def _map_pairs(t, v, side, opts):
    if isinstance(v, dict):
        v = Pairs(v.items())
    if isinstance(v, Pairs):
        raw = list(v)  # object form: keys are JSON strings
        keys_text = True
    elif isinstance(v, list):
        raw = []
        for e in v:
            if isinstance(e, dict):
                e = Pairs(e.items())
            if not isinstance(e, Pairs) or sorted(dict(e)) not in (["key", "value"], ["key"]):
                raise Mismatch(f"MAP entry must be {{\"key\":..,\"value\":..}}, got {e!r:.80}")
            d = dict(e)
            raw.append((d["key"], d.get("value")))
        keys_text = False
    else:
        raise Mismatch(f"MAP must be a JSON object or array, got {v!r:.80}")
    out = []
    for key, val in raw:
        if keys_text:
            kk = t.key.kind
            if kk in INT_KINDS or kk == "BOOLEAN":
                try:
                    key = int(key) if key not in ("true", "false") else key
                except ValueError:
                    raise Mismatch(f"MAP key {key!r} is not a {kk}")
            elif kk in FLOAT_KINDS or kk == "DECIMAL":
                try:
                    key = decimal.Decimal(key)
                except decimal.InvalidOperation:
                    raise Mismatch(f"MAP key {key!r} is not a {kk}")
        out.append((canon(t.key, key, side if side != "got" else "gotjson", opts),
                    canon(t.value, val, side if side != "got" else "gotjson", opts)))
    return out


def eq(a, b):
    """Compare two canonical values; returns None or a short reason."""
    if a is None or b is None:
        return None if a is None and b is None else f"{_show(a)} != {_show(b)}"
    if isinstance(a, (float, decimal.Decimal)) or isinstance(b, (float, decimal.Decimal)):
        if isinstance(a, (int, float, decimal.Decimal)) and isinstance(b, (int, float, decimal.Decimal)) \
                and not isinstance(a, bool) and not isinstance(b, bool):
            return None if _close(float(a), float(b)) else f"{a!r} != {b!r}"
        return f"{_show(a)} != {_show(b)}"
    if isinstance(a, tuple) and a and a[0] in ("struct",):
        if not (isinstance(b, tuple) and b[0] == "struct"):
            return f"{_show(a)} != {_show(b)}"
        for n in a[1]:
            r = eq(a[1][n], b[1].get(n))
            if r:
                return f".{n}: {r}"
        return None
    if isinstance(a, tuple) and a and a[0] == "map":
        if not (isinstance(b, tuple) and b[0] == "map"):
            return f"{_show(a)} != {_show(b)}"
        if len(a[1]) != len(b[1]):
            return f"map of {len(a[1])} entries != {len(b[1])} entries"
        for i, ((ka, va), (kb, vb)) in enumerate(zip(a[1], b[1])):
            r = eq(ka, kb) or eq(va, vb)
            if r:
                return f"[entry {i}]: {r}"
        return None
    if isinstance(a, tuple) and a and a[0] == "geom":
        return None if isinstance(b, tuple) and b[0] == "geom" and _geom_eq(a[1], b[1]) else f"{_show(a)} != {_show(b)}"
    if isinstance(a, tuple) and a and a[0] in ("ts", "date", "time"):
        if isinstance(b, tuple) and b[0] == a[0] and b[1] == a[1]:
            return None
        if isinstance(b, tuple) and a[0] == "ts" and b[0] == "ts":
            return f"timestamp off by {b[1] - a[1]} ns"
        return f"{_show(a)} != {_show(b)}"
    if isinstance(a, list):
        if not isinstance(b, list):
            return f"{_show(a)} != {_show(b)}"
        if len(a) != len(b):
            return f"list of {len(a)} != list of {len(b)}: {_show(a)} vs {_show(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            r = eq(x, y)
            if r:
                return f"[{i}]: {r}"
        return None
    if type(a) is not type(b) and not (isinstance(a, int) and isinstance(b, int)):
        return f"{_show(a)} != {_show(b)}"
    return None if a == b else f"{_show(a)} != {_show(b)}"


def _show(v):
    s = repr(v)
    return s if len(s) <= 100 else s[:97] + "..."


class Exact:
    """An expectation already in canonical form (see Canon), for values the test
    states itself rather than reads from DuckDB's rendering."""

    def __init__(self, value):
        self.value = value


def compare(t, expected, got, opts=None):
    """None when got (from sqlite3) is the value `expected` (expected-side rendering,
    or an Exact) of DuckDB type t; otherwise a reason."""
    try:
        a = expected.value if isinstance(expected, Exact) else canon(t, expected, "exp", opts)
    except Mismatch as e:
        return f"(expectation unreadable: {e})"
    try:
        b = canon(t, got, "got", opts)
    except Mismatch as e:
        return str(e)
    return eq(a, b)


def compare_rows(types, names, exp_rows, got_rows, opts=None, max_reasons=3):
    """Compare rows (expected as dicts by name, got as tuples in column order).
    Returns a list of at most max_reasons reasons, empty when equal."""
    reasons = []
    for i, (er, gr) in enumerate(zip(exp_rows, got_rows)):
        for j, (n, t) in enumerate(zip(names, types)):
            r = compare(t, er.get(n), gr[j], opts)
            if r:
                reasons.append(f"row {i} column {n!r}: {r}")
                if len(reasons) >= max_reasons:
                    return reasons
                break
    return reasons


def read_expected_jsonl(path):
    """(header, rows) of a NAME.expected.jsonl: rows as dicts (objects as Pairs)."""
    with open(path, encoding="utf-8") as f:
        header = json.loads(f.readline())
        rows = []
        for line in f:
            if line.strip():
                r = json_loads(line)
                rows.append(dict(r))
    return header, rows


def connect_plain_limit():
    """SQLITE_LIMIT_LENGTH of this python's SQLite (the longest TEXT/BLOB it returns)."""
    db = sqlite3.connect(":memory:")
    try:
        return db.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
    finally:
        db.close()


# ---------------------------------------------------------------------------
# Self-test: `python3 bzlib.py` (tests/run.sh runs it as python/bzlib) checks the
# comparison rules the conformance and round-trip tests rely on.
# ---------------------------------------------------------------------------

def _selftest():
    bad = []

    def same(ty, exp, got, opts=None):
        r = compare(parse_type(ty), exp, got, opts)
        if r:
            bad.append(f"expected equal: {ty} {exp!r} vs {got!r}: {r}")

    def differ(ty, exp, got, opts=None):
        if compare(parse_type(ty), exp, got, opts) is None:
            bad.append(f"expected different: {ty} {exp!r} vs {got!r}")

    t = parse_type('STRUCT(A INTEGER, "b c" INTEGER[], C STRUCT(d STRUCT(E INTEGER, F VARCHAR)[][]), '
                   'g MAP(VARCHAR, STRUCT(H STRUCT(i DOUBLE[]))))')
    if [n for n, _ in t.fields] != ["A", "b c", "C", "g"] or t.fields[3][1].value.kind != "STRUCT":
        bad.append(f"parse_type: {t!r}")
    if parse_type("TIMESTAMP WITH TIME ZONE").kind != "TIMESTAMP WITH TIME ZONE":
        bad.append("parse_type TIMESTAMPTZ")
    if parse_type("GEOMETRY('{\"a\":\"b\"}')").kind != "GEOMETRY" or parse_type("DECIMAL(38,10)").params != (38, 10):
        bad.append("parse_type params")
    if parse_type("VARCHAR[][][]").child.child.child.kind != "VARCHAR":
        bad.append("parse_type lists")
    same("BOOLEAN", True, 1)
    differ("BOOLEAN", True, "1")
    same("INTEGER", 5, 5)
    differ("INTEGER", 5, 5.0)
    same("UBIGINT", 18446744073709551615, 1.8446744073709552e19)
    same("FLOAT", 2.200000047683716, 2.2000000476837158)
    same("DOUBLE", float("nan"), None)
    same("DOUBLE", float("-inf"), float("-inf"))
    differ("DOUBLE", 1.0, 1.001)
    differ("DOUBLE", 1.0, 1)
    same("DECIMAL(25,2)", decimal.Decimal("1.00"), 1.0)
    same("DECIMAL(38,10)", decimal.Decimal("-1234567890123456789012345678.0123456789"), -1.2345678901234568e27)
    same("DECIMAL(9,3)", decimal.Decimal("1.5"), "1.500", {"decimal_as_text": 1})
    differ("DECIMAL(9,3)", decimal.Decimal("1.5"), "1.500")
    same("BLOB", "\\x00ab\\x5C", b"\x00ab\\")
    same("BLOB", {"hex": "00ff"}, b"\x00\xff")
    differ("BLOB", "abc", "abc")
    same("BLOB", "abc", "abc", {"binary_as_string": 1})
    same("DATE", "2024-02-29", "2024-02-29")
    same("DATE", "0044-03-15 (BC)", "-0043-03-15")
    same("TIMESTAMP", "2009-01-13 01:02:05.41", "2009-01-13 01:02:05.410")
    same("TIMESTAMP", "2009-01-13 01:02:05", "2009-01-13 01:02:05.000000")
    same("TIMESTAMP_NS", "2009-01-13 01:02:05.123456789", "2009-01-13 01:02:05.123456789")
    differ("TIMESTAMP", "2009-01-13 01:02:05.41", "2009-01-13 01:02:05.401")
    same("TIMESTAMP WITH TIME ZONE", "2024-01-01 21:34:56+01", "2024-01-01 20:34:56")
    same("TIMESTAMP", Exact(("ts", 9089380393200000000 * 1000)), "290000-12-30 23:00:00")
    same("TIME", "01:02:03.5", "01:02:03.500000")
    same("UUID", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    differ("UUID", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11")
    same("INTEGER[][]", [[1, None], [], None], "[[1,null],[],null]")
    differ("INTEGER[][]", [[1, 2]], "[[2,1]]")
    same("MAP(INTEGER, BOOLEAN)", Pairs([("1", True), ("2", False)]), '{"1":1,"2":0}')
    same("MAP(INTEGER, BOOLEAN)", Pairs([("1", True), ("2", False)]),
         '[{"key":1,"value":true},{"key":2,"value":false}]')
    differ("MAP(INTEGER, BOOLEAN)", Pairs([("1", True), ("2", False)]), '{"1":true}')
    same("STRUCT(a INTEGER, b VARCHAR)", Pairs([("a", 1), ("b", "x")]), '{"b":"x","a":1}')
    differ("STRUCT(a INTEGER, b VARCHAR)", Pairs([("a", 1), ("b", "x")]), '{"a":1}')
    same("STRUCT(t TIMESTAMP, f FLOAT)", Pairs([("t", "2020-01-01 00:00:00"), ("f", float("nan"))]),
         '{"t":"2020-01-01 00:00:00.000","f":null}')
    differ("INTEGER[]", [1], [1])  # nested values must arrive as JSON text
    same("GEOMETRY", "POINT (30 10)", struct.pack("<BIdd", 1, 1, 30.0, 10.0))
    same("GEOMETRY", "POINT ZM EMPTY", struct.pack("<BIdddd", 1, 3001, *([float("nan")] * 4)))
    same("GEOMETRY", "LINESTRING (30 10, 10 30)", struct.pack("<BII4d", 1, 2, 2, 30.0, 10.0, 10.0, 30.0))
    same("GEOMETRY", "MULTIPOINT ((1 2), (3 4))",
         struct.pack("<BII", 1, 4, 2) + struct.pack("<BIdd", 1, 1, 1, 2) + struct.pack("<BIdd", 1, 1, 3, 4))
    if parse_timestamp("1970-01-01 00:00:01.5") != 1_500_000_000:
        bad.append("parse_timestamp")
    if days_from_civil(2000, 3, 1) != 11017:
        bad.append("days_from_civil")
    r = run_isolated(["/nonexistent.parquet"], timeout=20)
    if r.status not in ("error", "crash"):
        bad.append(f"run_isolated on a missing file: {r.status}")
    for b in bad:
        print("FAIL", b)
    print(f"bzlib self-test: {'FAIL' if bad else 'ok'} ({len(bad)} problems)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(_selftest())


# ---------------------------------------------------------------------------
# Check counting shared by the tests that print "N passed, N failed".

_failures = []
_passed = 0


def report(name, ok, msg=""):
    """Count one check; print a failed one with msg."""
    global _passed
    if ok:
        _passed += 1
    else:
        _failures.append(name)
        print(f"FAIL {name}: {msg}")


def failed():
    """Names of the checks failed so far."""
    return list(_failures)


def summary():
    """Print "N passed, N failed"; the process exit status (1 on any failure)."""
    print(f"{_passed} passed, {len(_failures)} failed")
    return 1 if _failures else 0
