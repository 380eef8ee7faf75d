#!/usr/bin/env bash
# Package the hbee Lambda function: scripts/lambda_zip.sh build/hbee OUT.zip
# (run by `make lambda`). OUT.zip holds `bootstrap` (stripped) and, beside
# it, every shared library that bootstrap or libcurl.so.4 (dlopen'ed on the
# first AWS request, src/aws/aws_curl.c) needs, except glibc's own, which the
# provided.al2023 runtime has (glibc 2.34). bootstrap finds them through its
# DT_RPATH $ORIGIN (Makefile). Fails if any file needs a glibc symbol version
# above 2.34 or the zip is 15 MB or more.
set -euo pipefail
BOOT=$1
OUT=$2
MAX_GLIBC=2.34
MAX_ZIP=$((15 * 1000 * 1000))
STAGE=$(dirname "$OUT")/lambda-pkg
rm -rf "$STAGE" "$OUT"
mkdir -p "$STAGE"
strip --strip-debug -o "$STAGE/bootstrap" "$BOOT"
chmod 755 "$STAGE/bootstrap"

# glibc's libraries (present in every Lambda runtime, version-matched to its loader)
is_glibc() {
    case $1 in
    linux-vdso.so.* | ld-linux-*.so.* | libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | \
        librt.so.* | libresolv.so.* | libutil.so.* | libanl.so.* | libnsl.so.* | libmvec.so.*) return 0 ;;
    esac
    return 1
}

curl_path=$(ldconfig -p | awk '$1 == "libcurl.so.4" && /x86-64/ && !p {print $NF; p = 1}')
[ -n "$curl_path" ] || { echo "lambda_zip: libcurl.so.4 not found (libcurl4)" >&2; exit 1; }
cp -L "$curl_path" "$STAGE/libcurl.so.4"
# ldd resolves the whole closure (the libraries' own dependencies included)
ldd "$STAGE/bootstrap" "$curl_path" | awk '/=>/ && $3 ~ /^\// {print $1, $3}' | sort -u |
    while read -r name path; do
        is_glibc "$name" && continue
        cp -L "$path" "$STAGE/$name"
    done
# nothing of the build host is needed any more: a second ldd in the stage
# directory must resolve every non-glibc library there
if LD_LIBRARY_PATH= ldd "$STAGE/bootstrap" "$STAGE/libcurl.so.4" | grep -q 'not found'; then
    echo "lambda_zip: unresolved libraries in $STAGE" >&2
    exit 1
fi

bad=0
for f in "$STAGE"/*; do
    v=$(objdump -T "$f" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
    if [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$v" "$MAX_GLIBC" | sort -V | tail -n 1)" != "$MAX_GLIBC" ]; then
        echo "lambda_zip: $(basename "$f") needs GLIBC_$v (provided.al2023 has $MAX_GLIBC):" >&2
        objdump -T "$f" | grep -E "GLIBC_$v" | sed 's/^/    /' >&2
        bad=1
    fi
done
[ $bad = 0 ] || exit 1

(cd "$STAGE" && zip -q -X -9 "$OLDPWD/$OUT.tmp" bootstrap lib*)
mv "$OUT.tmp" "$OUT"
size=$(stat -c %s "$OUT")
if [ "$size" -ge $MAX_ZIP ]; then
    echo "lambda_zip: $OUT is $size bytes (limit $MAX_ZIP)" >&2
    exit 1
fi
echo "lambda_zip: $OUT: $(ls "$STAGE" | wc -l) files, $size bytes"
