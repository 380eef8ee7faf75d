#!/usr/bin/env bash
# Install whatever buzzlite's build, tests and benchmarks need and is missing:
# Debian packages with apt-get, test-only npm tools into ./node_modules.
# Idempotent and quiet when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential pkg-config sqlite3 libsqlite3-dev libcurl4-openssl-dev libssl-dev
      libzstd-dev libsnappy-dev libcjson-dev zlib1g-dev liblz4-dev libbrotli-dev
      libexpat1-dev libhiredis-dev redis-server openjdk-17-jre-headless
      python3 python3-botocore python3-boto3 python3-redis zip unzip curl
      procps psmisc clang libclang-rt-14-dev)
command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
command -v npm >/dev/null 2>&1 || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "deps: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm test tools (package.json devDependencies) into ./node_modules.
stamp=node_modules/.buzzlite-stamp
if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    echo "deps: npm install (test-only tools)"
    # `npm ci` refuses this lock file (it lacks the other platforms' optional
    # DuckDB binding entries that npm 11 expects); `npm install` follows the
    # locked versions and fills those in.
    npm install --no-audit --no-fund --loglevel=error
    touch "$stamp"
fi
