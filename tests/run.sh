#!/usr/bin/env bash
# Run every test against one build directory and print "N passed, N failed".
#   tests/run.sh build        # normal build
#   tests/run.sh build-asan   # same suite, ASan+UBSan build
# Optional filter: tests/run.sh build parquet   (runs tests whose path matches)
#
# Test kinds:
#   $B/tests/<module>/test_*   C unit tests (exit 0 = pass)
#   tests/sql/*.sql            self-checking SQL through the sqlite3 shell: every
#                              output line must end in "1" (sqlean style), or, if
#                              X.expected exists beside X.sql, output must match it
#   tests/python/test_*.py     host-language tests, Debian's /usr/bin/python3
#   tests/node/test_*.mjs      tests in node (./node_modules): infra/ HCL and IAM policies
#   tests/integration/*.{sh,py} tests against the real servers of the test stack
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=${1:-build}
FILTER=${2:-}
export BZ_ROOT=$ROOT BZ_BUILD=$ROOT/$B BZ_EXT=$ROOT/$B/buzzlite
export BZ_SHARED=${BZ_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
export PYTHON=/usr/bin/python3
PRELOAD=""
if [[ $B == *asan* ]]; then
    export BZ_SAN=1
    PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
# Hosts (sqlite3 shell, python) loading an ASan .so need the runtime preloaded;
# their own leaks are not ours, so leak checking is off for them.
HOST=()
if [ -n "$PRELOAD" ]; then
    HOST=(env LD_PRELOAD="$PRELOAD" ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1")
fi
export BZ_HOST_PRELOAD="$PRELOAD"

LOG=$ROOT/$B/test-logs
rm -rf "$LOG"
mkdir -p "$LOG"
pass=0
fail=0
failed=()

record() { # name rc seconds
    if [ "$2" = 0 ]; then
        pass=$((pass + 1))
        printf 'ok   %-60s %5ss\n' "$1" "$3"
    else
        fail=$((fail + 1))
        failed+=("$1")
        printf 'FAIL %-60s %5ss  (log: %s)\n' "$1" "$3" "$LOG/$(echo "$1" | tr '/' '_').log"
        tail -n 15 "$LOG/$(echo "$1" | tr '/' '_').log" | sed 's/^/     | /'
    fi
}

run_one() { # name command...
    local name=$1
    shift
    [ -n "$FILTER" ] && [[ $name != *$FILTER* ]] && return
    local logf="$LOG/$(echo "$name" | tr '/' '_').log" t0 t1 rc
    t0=$(date +%s%N)
    (cd "$ROOT" && timeout 900 "$@") >"$logf" 2>&1
    rc=$?
    t1=$(date +%s%N)
    local ds=$(((t1 - t0) / 100000000))
    record "$name" $rc "$((ds / 10)).$((ds % 10))"
}

sql_test() { # file.sql
    local f=$1 exp=${1%.sql}.expected out
    out=$(${BZ_HOST_PRELOAD:+env LD_PRELOAD="$BZ_HOST_PRELOAD" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1} sqlite3 -bail -batch :memory: -cmd ".load $BZ_EXT" <"$f" 2>&1)
    local rc=$?
    if [ -f "$exp" ]; then
        diff -u "$exp" <(printf '%s\n' "$out") && return 0
        return 1
    fi
    printf '%s\n' "$out"
    [ $rc = 0 ] || return 1
    [ -n "$out" ] || { echo "no output"; return 1; }
    local bad
    bad=$(printf '%s\n' "$out" | grep -v -E '(^|\|)1$')
    [ -z "$bad" ] || { echo "--- rows not ending in 1:"; echo "$bad"; return 1; }
}
export -f sql_test

# 1. C unit tests
for t in $(find "$B/tests" -type f -executable -name 'test_*' 2>/dev/null | sort); do
    run_one "unit/${t#$B/tests/}" "$t"
done
# 2. SQL tests
for f in tests/sql/*.sql; do
    [ -f "$f" ] || continue
    run_one "sql/$(basename "$f" .sql)" bash -c 'sql_test "$0"' "$f"
done
# 3. host-language tests
for f in tests/python/test_*.py; do
    [ -f "$f" ] || continue
    run_one "python/$(basename "$f" .py)" "${HOST[@]}" "$PYTHON" "$f"
done
for f in tests/node/test_*.mjs; do
    [ -f "$f" ] || continue
    run_one "node/$(basename "$f" .mjs)" node "$f"
done
# 4. integration tests against the real test stack
itests=()
for f in tests/integration/*.sh tests/integration/*.py; do
    [ -f "$f" ] || continue
    [ -n "$FILTER" ] && [[ integration/$(basename "$f") != *$FILTER* ]] && continue
    itests+=("$f")
done
if ((${#itests[@]})); then
    export BZ_STACK_DIR=$ROOT/$B/stack
    if tests/stack.sh up >"$LOG/stack-up.log" 2>&1; then
        # shellcheck disable=SC1090
        eval "$(tests/stack.sh env)"
        for f in "${itests[@]}"; do
            case $f in
            *.py) run_one "integration/$(basename "$f")" "${HOST[@]}" "$PYTHON" "$f" ;;
            *) run_one "integration/$(basename "$f")" bash "$f" ;;
            esac
        done
    else
        echo "test stack failed to start:"
        tail -n 30 "$LOG/stack-up.log"
        for f in "${itests[@]}"; do record "integration/$(basename "$f")" 1 0; done
    fi
    tests/stack.sh down >>"$LOG/stack-up.log" 2>&1
fi

if ((fail)); then
    echo "failed in $B:"
    printf '  %s\n' "${failed[@]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
