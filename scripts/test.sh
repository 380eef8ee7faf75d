#!/usr/bin/env bash
# `make test`: build and run the whole suite twice, normally and under
# ASan+UBSan, and close with the combined "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
J=$(nproc 2>/dev/null || echo 2)
total_pass=0
total_fail=0
for san in 0 1; do
    B=build
    [ $san = 1 ] && B=build-asan
    echo "== building $B"
    if ! make -s -j"$J" SAN=$san all unit >"/tmp/buzzlite-make-$san.log" 2>&1; then
        cat "/tmp/buzzlite-make-$san.log"
        echo "build failed: $B"
        total_fail=$((total_fail + 1))
        continue
    fi
    # the fuzz smoke run and lambda packaging are part of the normal pass only
    echo "== running tests against $B"
    passlog=$(mktemp)
    tests/run.sh "$B" 2>&1 | tee "$passlog"
    out=$(tail -n 1 "$passlog")
    rm -f "$passlog"
    p=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    total_pass=$((total_pass + ${p:-0}))
    total_fail=$((total_fail + ${f:-1}))
    # fuzz smoke run: every libFuzzer target for a few seconds (skipped, and
    # not counted, when clang's libFuzzer is missing: exit 77)
    if [ $san = 0 ]; then
        scripts/fuzz.sh --smoke >"$B/test-logs/fuzz-smoke.log" 2>&1
        rc=$?
        if [ $rc = 77 ]; then
            echo "skip fuzz smoke run: $(tail -n 1 "$B/test-logs/fuzz-smoke.log")"
        elif [ $rc = 0 ]; then
            total_pass=$((total_pass + 1))
            echo "ok   fuzz/smoke"
        else
            total_fail=$((total_fail + 1))
            echo "FAIL fuzz/smoke  (log: $B/test-logs/fuzz-smoke.log)"
            tail -n 15 "$B/test-logs/fuzz-smoke.log" | sed 's/^/     | /'
        fi
    fi
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
