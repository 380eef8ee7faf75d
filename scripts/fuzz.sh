#!/usr/bin/env bash
# Run the libFuzzer targets of tests/fuzz/ (built by `make fuzz-build` with
# clang -fsanitize=fuzzer,address,undefined into build-fuzz/).
#
#   scripts/fuzz.sh 60            the main target (file) for 60 s  (`make fuzz`)
#   scripts/fuzz.sh 60 meta       one target: file, meta, codec, encoding
#   scripts/fuzz.sh 60 all        every target, 60 s each
#   scripts/fuzz.sh --smoke       every target briefly (~16 s; part of `make test`)
#
# Seeds: build-fuzz/corpus/<target>/ (derived from $BZ_SHARED's conformance
# files by the replay driver; never committed). New inputs go to
# build-fuzz/work/<target>/, crashes to build-fuzz/crashes/<target>-*.
# Exit status: 0 no crash, 1 a crash (the input is named, with how to minimize
# it into tests/fuzz/regressions/<target>/), 77 clang's libFuzzer is missing
# (install clang and libclang-rt-14-dev: scripts/deps.sh).
#
# Limits: -malloc_limit_mb=600 makes any single allocation above 600 MB a
# crash (the reader's own page limit is 256 MB, so more is a bug), 10 s per
# input, 2 GB RSS.
set -uo pipefail
cd "$(dirname "$0")/.."
FZ=build-fuzz
export BZ_SHARED=${BZ_SHARED:-$(cd .. && pwd)/shared}

secs=${1:-60}
which=${2:-file}
smoke=0
if [ "$secs" = --smoke ]; then
    smoke=1
    secs=4
    which=all
fi
case $which in
all) targets=(file meta codec encoding) ;;
file | meta | codec | encoding) targets=("$which") ;;
*)
    echo "unknown target $which (file, meta, codec, encoding, all)" >&2
    exit 2
    ;;
esac

# Is libFuzzer there? (clang without libclang-rt-*-dev fails to link.)
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
if ! ${FUZZ_CC:-clang} -fsanitize=fuzzer,address -o "$probe/p" "$probe/p.c" >/dev/null 2>&1; then
    echo "fuzz: clang with libFuzzer is not available (apt-get install clang libclang-rt-14-dev)"
    exit 77
fi

J=$(nproc 2>/dev/null || echo 2)
if ! make -s -j"$J" fuzz-build >"$FZ.make.log" 2>&1; then
    cat "$FZ.make.log"
    echo "fuzz: build failed"
    exit 1
fi
rm -f "$FZ.make.log"

status=0
mkdir -p "$FZ/crashes"
for t in "${targets[@]}"; do
    mkdir -p "$FZ/work/$t"
    log=$FZ/fuzz-$t.log
    echo "fuzz: $t for ${secs}s (log: $log)"
    # the smoke run starts from the seeds alone, so it replays all of them each time
    work=("$FZ/work/$t")
    [ $smoke = 1 ] && work=()
    "$FZ/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=600 \
        -artifact_prefix="$FZ/crashes/$t-" -print_final_stats=1 \
        "${work[@]}" "$FZ/corpus/$t" >"$log" 2>&1
    rc=$?
    grep -a -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$log" | sed 's/^/      /'
    if [ $rc != 0 ]; then
        status=1
        echo "fuzz: $t FAILED (exit $rc):"
        grep -a -E 'ERROR|SUMMARY|Test unit written|runtime error' "$log" | head -n 10 | sed 's/^/      /'
        art=$(LC_ALL=C sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        if [ -n "$art" ]; then
            echo "      reproduce: $FZ/fuzz_$t $art"
            echo "      minimize:  $FZ/fuzz_$t -minimize_crash=1 -runs=20000 -exact_artifact_path=tests/fuzz/regressions/$t/NAME $art"
        fi
    fi
done
exit $status
