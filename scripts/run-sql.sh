#!/usr/bin/env bash
# run-sql.sh: run a script of sql/ in the sqlite3 shell with buzzlite loaded,
# its ${NAME} placeholders filled from the environment.
#
#   eval "$(make stack-env)"                       # the local stack (make stack-up)
#   scripts/run-sql.sh sql/tpch_q1_q6.sql
#   HBEE_EXECUTOR=lambda scripts/run-sql.sh sql/tpch_q1_q6.sql
#   eval "$(terraform -chdir=infra output -raw client_env)"   # or real AWS
#   LINEITEM=s3://my-bucket/tpch/ HBEE_EXECUTOR=lambda scripts/run-sql.sh sql/tpch_q1_q6.sql
#
# The sqlite3 shell cannot read environment variables, and virtual table
# arguments cannot be bound parameters, so the text is substituted before it
# reaches the shell: ${NAME} (an error naming NAME and the script when unset)
# and ${NAME:-default} (default when unset or empty), as in sh. Directives in the script's comment lines:
#
#   -- @default NAME=value          value of NAME when it is unset or empty (may use
#                                   ${OTHER}; may be empty)
#   -- @stack-put LOCAL URL         on the local stack (BZ_S3_PORT set), upload the
#                                   repository file LOCAL to s3:// URL first
#   -- @stack-ddb-table NAME KEY    on the local stack (BZ_DDB_PORT set), create the
#                                   DynamoDB table NAME (partition key KEY, string) afresh
#
# Options: -b DIR (build directory, default build; $BZ_EXT overrides the
# extension path), -n (print the substituted SQL instead of running it).
# Any further arguments go to sqlite3. Exit status is sqlite3's.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
PRINT=0
while getopts b:n o; do
    case $o in
    b) BUILD=$(cd "$OPTARG" && pwd) ;;
    n) PRINT=1 ;;
    *) echo "usage: $0 [-b build] [-n] script.sql [sqlite3 args]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-b build] [-n] script.sql [sqlite3 args]" >&2; exit 2; }
SCRIPT=$1
shift
[ -f "$SCRIPT" ] || { echo "run-sql: $SCRIPT: no such file" >&2; exit 2; }
EXT=${BZ_EXT:-$BUILD/buzzlite}
[ -f "$EXT.so" ] || [ -f "$EXT" ] || { echo "run-sql: $EXT.so not found (make)" >&2; exit 2; }
PY=${PYTHON:-python3}

# sqlite3 with the extension; under an ASan build the runtime is preloaded
# (tests/run.sh sets BZ_HOST_PRELOAD).
shell() {
    if [ -n "${BZ_HOST_PRELOAD:-}" ]; then
        env LD_PRELOAD="$BZ_HOST_PRELOAD" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
            sqlite3 -cmd ".load $EXT" "$@"
    else
        sqlite3 -cmd ".load $EXT" "$@"
    fi
}

# Substitute ${NAME} / ${NAME:-default} in stdin; @default lines first.
# Prints the directives (after substitution) on fd 3 as "kind<TAB>args".
substitute() {
    "$PY" -c '
import os, re, sys
script, text = sys.argv[1], sys.stdin.read()
env = dict(os.environ)
def fill(s, where):
    def one(m):
        name, dflt = m.group(1), m.group(3)
        if dflt is not None and env.get(name, "") == "":
            return fill(dflt, where)
        if name in env:
            return env[name]
        sys.exit(f"run-sql: {script}: {where} needs ${{{name}}}: set {name} in the environment (see the script header)")
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}", one, s)
directives = []
for line in text.splitlines():
    m = re.match(r"--\s*@(default|stack-put|stack-ddb-table)\s+(.*)$", line)
    if not m:
        continue
    if m.group(1) == "default":
        name, _, val = m.group(2).partition("=")
        name = name.strip()
        if env.get(name, "") == "":
            env[name] = fill(val.strip(), "@default " + name)
    else:
        directives.append((m.group(1), m.group(2)))
with os.fdopen(3, "w") as d:
    for kind, args in directives:
        d.write(kind + "\t" + fill(args, "@" + kind) + "\n")
out = []
for i, line in enumerate(text.splitlines(True), 1):
    out.append(line if line.lstrip().startswith("--") else fill(line, f"line {i}"))
sys.stdout.write("".join(out))
' "$SCRIPT"
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
substitute <"$SCRIPT" >"$TMP/script.sql" 3>"$TMP/directives"
if [ "$PRINT" = 1 ]; then
    cat "$TMP/script.sql"
    exit 0
fi

while IFS=$'\t' read -r kind args; do
    read -r -a a <<<"$args"
    case $kind in
    stack-put)
        [ -n "${BZ_S3_PORT:-}" ] || continue
        (cd "$ROOT" && shell :memory: "SELECT 's3_put', s3_put('${a[1]}', readfile('${a[0]}')) IS NOT NULL;") \
            >/dev/null || { echo "run-sql: uploading ${a[0]} to ${a[1]} failed" >&2; exit 1; }
        ;;
    stack-ddb-table)
        [ -n "${BZ_DDB_PORT:-}" ] || continue
        TABLE=${a[0]} KEY=${a[1]} "$PY" - <<'EOF' || { echo "run-sql: creating DynamoDB table ${a[0]} failed" >&2; exit 1; }
import os, boto3
c = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
                 region_name=os.environ.get("AWS_REGION", "us-east-1"))
t = os.environ["TABLE"]
try:
    c.delete_table(TableName=t)
    c.get_waiter("table_not_exists").wait(TableName=t, WaiterConfig={"Delay": 0.2})
except c.exceptions.ResourceNotFoundException:
    pass
c.create_table(TableName=t, BillingMode="PAY_PER_REQUEST",
               AttributeDefinitions=[{"AttributeName": os.environ["KEY"], "AttributeType": "S"}],
               KeySchema=[{"AttributeName": os.environ["KEY"], "KeyType": "HASH"}])
c.get_waiter("table_exists").wait(TableName=t, WaiterConfig={"Delay": 0.2})
EOF
        ;;
    esac
done <"$TMP/directives"

cd "$ROOT"
shell -batch :memory: "$@" <"$TMP/script.sql"
