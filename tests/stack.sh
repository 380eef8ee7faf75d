#!/usr/bin/env bash
# The one test-stack script: starts the real components buzzlite talks to on
# free loopback ports, and stops exactly the processes it started.
#
#   tests/stack.sh up      start every service (or those in $BZ_STACK_SERVICES)
#   tests/stack.sh env     print `export` lines pointing buzzlite at them:
#                          eval "$(tests/stack.sh env)"  (or make stack-env)
#   tests/stack.sh down    stop what `up` started (pids recorded in the state dir)
#
# State (pids, ports, data, logs) lives in $BZ_STACK_DIR (default build/stack).
# Each service has three functions below: <svc>_start, <svc>_ready, <svc>_env.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${BZ_STACK_DIR:-$ROOT/build/stack}
SERVICES=${BZ_STACK_SERVICES:-redis s3 ddb lambda hbee_workers}
mkdir -p "$DIR"

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # port seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# Start a background process for service $1 and record its pid; the rest of
# the arguments are the command. Its output goes to $DIR/$1.log.
spawn() {
    local svc=$1
    shift
    setsid "$@" >"$DIR/$svc.log" 2>&1 </dev/null &
    echo $! >"$DIR/$svc.pid"
}

# ---- redis ------------------------------------------------------------------
redis_start() {
    local port
    port=$(free_port)
    echo "$port" >"$DIR/redis.port"
    mkdir -p "$DIR/redis-data"
    spawn redis redis-server --bind 127.0.0.1 --port "$port" --dir "$DIR/redis-data" \
        --appendonly yes --appendfsync everysec --save '' --protected-mode yes \
        --daemonize no --logfile ''
    wait_port "$port" 10
}
redis_env() {
    echo "export REDIS_URL=redis://127.0.0.1:$(cat "$DIR/redis.port")/0"
    echo "export BZ_REDIS_PORT=$(cat "$DIR/redis.port")"
}

# ---- s3 ---------------------------------------------------------------------
# s3rver 3.7.1 through tests/tools/s3rver.js, which fixes its suffix-range and
# bytes=0-0 answers at load time (see that file). Tests create their buckets.
# s3rver accepts the access key S3RVER/S3RVER and does not check signatures.
s3_start() {
    local port
    port=$(free_port)
    echo "$port" >"$DIR/s3.port"
    rm -rf "$DIR/s3-data"
    mkdir -p "$DIR/s3-data"
    spawn s3 node --openssl-legacy-provider "$ROOT/tests/tools/s3rver.js" --address 127.0.0.1 --port "$port" \
        --directory "$DIR/s3-data" --configure-bucket bz-test
    wait_port "$port" 20
}
s3_env() {
    echo "export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$(cat "$DIR/s3.port")"
    echo "export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1"
    echo "export AWS_EC2_METADATA_DISABLED=true"
    echo "export BZ_S3_PORT=$(cat "$DIR/s3.port") BZ_S3_BUCKET=bz-test"
}

# ---- ddb --------------------------------------------------------------------
# DynamoDB Local, the official AWS jar shipped by the npm package
# amplify-dynamodb-simulator, on Debian's Java 17, in memory. It accepts any
# credentials (it checks the signature's shape, not the secret).
ddb_jar() {
    local j
    for j in "$ROOT"/node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar \
        "$ROOT"/node_modules/*/emulator/DynamoDBLocal.jar; do
        [ -f "$j" ] && { echo "$j"; return 0; }
    done
    return 1
}
ddb_start() {
    local port jar java
    jar=$(ddb_jar) || { echo "DynamoDBLocal.jar not found (npm install)" >"$DIR/ddb.log"; return 1; }
    java=$(command -v java || true)
    [ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ] && java=/usr/lib/jvm/java-17-openjdk-amd64/bin/java
    [ -n "$java" ] || { echo "java not found (openjdk-17-jre-headless)" >"$DIR/ddb.log"; return 1; }
    port=$(free_port)
    echo "$port" >"$DIR/ddb.port"
    (cd "$(dirname "$jar")" && spawn ddb "$java" -Xmx${BZ_DDB_XMX:-1g} \
        -Djava.library.path="$(dirname "$jar")/DynamoDBLocal_lib" -jar "$jar" \
        -inMemory -port "$port")
    wait_port "$port" 60
}
ddb_env() {
    echo "export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(cat "$DIR/ddb.port")"
    echo "export AWS_ACCESS_KEY_ID=\${AWS_ACCESS_KEY_ID:-bzdummy} AWS_SECRET_ACCESS_KEY=\${AWS_SECRET_ACCESS_KEY:-bzdummy}"
    echo "export AWS_REGION=\${AWS_REGION:-us-east-1} AWS_EC2_METADATA_DISABLED=true"
    echo "export BZ_DDB_PORT=$(cat "$DIR/ddb.port")"
}

# The AWS environment of the stack's workers (Lambda instances, hbee workers):
# the S3 and DynamoDB endpoints of the services that are up, with the
# credentials the clients use (DynamoDB Local keeps one database per access
# key and region, so workers and clients must agree).
worker_aws_env() {
    [ -f "$DIR/s3.port" ] || [ -f "$DIR/ddb.port" ] || return 0
    [ -f "$DIR/s3.port" ] && echo "AWS_ENDPOINT_URL_S3=http://127.0.0.1:$(cat "$DIR/s3.port")"
    [ -f "$DIR/ddb.port" ] && echo "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(cat "$DIR/ddb.port")"
    if [ -f "$DIR/s3.port" ]; then
        echo "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER"
    else
        echo "AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-bzdummy} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-bzdummy}"
    fi
    echo "AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true"
}

# ---- lambda -------------------------------------------------------------------
# tests/lambda_emulator.py: the Invoke and Runtime APIs, running the hbee
# binary ($BZ_HBEE, default $BZ_BUILD/hbee) as the function's bootstrap in
# $BZ_LAMBDA_INSTANCES (default 4) warm processes. The instances get the S3
# endpoint of the stack (for scratch results) and its DynamoDB endpoint (for
# tasks over dynamodb tables).
hbee_bin() {
    local b=${BZ_HBEE:-${BZ_BUILD:-$ROOT/build}/hbee}
    [ -x "$b" ] || { echo "hbee binary not found at $b (make lambda)" >&2; return 1; }
    echo "$b"
}
lambda_start() {
    local bin port envs=()
    bin=$(hbee_bin 2>"$DIR/lambda.log") || return 1
    local e
    for e in $(worker_aws_env); do envs+=(--env "$e"); done
    rm -f "$DIR/lambda.port"
    spawn lambda /usr/bin/python3 "$ROOT/tests/lambda_emulator.py" --port 0 \
        --port-file "$DIR/lambda.port" --instances "${BZ_LAMBDA_INSTANCES:-4}" \
        --bootstrap "$bin" --timeout "${BZ_LAMBDA_TIMEOUT:-30}" "${envs[@]}"
    for _ in $(seq 100); do [ -s "$DIR/lambda.port" ] && break; sleep 0.1; done
    [ -s "$DIR/lambda.port" ] && wait_port "$(cat "$DIR/lambda.port")" 10
}
lambda_env() {
    echo "export AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:$(cat "$DIR/lambda.port")"
    echo "export AWS_ACCESS_KEY_ID=\${AWS_ACCESS_KEY_ID:-bzdummy} AWS_SECRET_ACCESS_KEY=\${AWS_SECRET_ACCESS_KEY:-bzdummy}"
    echo "export AWS_REGION=\${AWS_REGION:-us-east-1} AWS_EC2_METADATA_DISABLED=true"
    echo "export BZ_LAMBDA_PORT=$(cat "$DIR/lambda.port")"
    # the names infra/'s client_env output uses (sql/, scripts/run-sql.sh)
    echo "export HBEE_FUNCTION=buzzlite-hbee"
    [ -f "$DIR/s3.port" ] && echo "export HBEE_SCRATCH=s3://bz-test/hbee-scratch/"
    return 0
}

# ---- hbee_workers -----------------------------------------------------------------
# $BZ_HBEE_WORKERS (default 2) `hbee worker` processes on the stack's Redis,
# stream hbee:tasks, in one process group, with the stack's S3 and DynamoDB
# endpoints.
hbee_workers_start() {
    local bin url
    bin=$(hbee_bin 2>"$DIR/hbee_workers.log") || return 1
    [ -f "$DIR/redis.port" ] || { echo "hbee_workers needs the redis service" >"$DIR/hbee_workers.log"; return 1; }
    url=redis://127.0.0.1:$(cat "$DIR/redis.port")/0
    local envs=() # workers read s3:// splits and dynamodb segments from the stack
    read -r -a envs <<<"$(worker_aws_env | tr '\n' ' ')"
    spawn hbee_workers env "${envs[@]}" bash -c 'for ((i = 0; i < $1; i++)); do "$2" worker --redis "$3" & done; wait' \
        _ "${BZ_HBEE_WORKERS:-2}" "$bin" "$url"
    # ready when every worker has said it is on the stream (each logs
    # "worker <name> on <url>, stream <queue>" once connected)
    local n=0
    for _ in $(seq 100); do
        n=$(grep -c ' on redis://.*, stream ' "$DIR/hbee_workers.log" 2>/dev/null || true)
        [ "$n" -ge "${BZ_HBEE_WORKERS:-2}" ] && break
        kill -0 "$(cat "$DIR/hbee_workers.pid")" 2>/dev/null || return 1
        sleep 0.1
    done
    [ "$n" -ge "${BZ_HBEE_WORKERS:-2}" ] || return 1
    cp "$DIR/redis.port" "$DIR/hbee_workers.port"
}
hbee_workers_env() {
    echo "export BZ_HBEE_WORKERS=${BZ_HBEE_WORKERS:-2} BZ_HBEE_QUEUE=hbee:tasks"
}

# ---- commands -----------------------------------------------------------------
stop_service() {
    local svc=$1 pid
    [ -f "$DIR/$svc.pid" ] || return 0
    pid=$(cat "$DIR/$svc.pid")
    # setsid made the service a process-group leader: stop its whole group.
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$DIR/$svc.pid" "$DIR/$svc.port"
}

case ${1:-} in
up)
    for s in $SERVICES; do
        stop_service "$s"
        if ! "${s}_start"; then
            echo "stack: $s failed to start; log:" >&2
            tail -n 20 "$DIR/$s.log" >&2 || true
            exit 1
        fi
        echo "stack: $s up on 127.0.0.1:$(cat "$DIR/$s.port")"
    done
    ;;
env)
    for s in $SERVICES; do
        [ -f "$DIR/$s.port" ] && "${s}_env"
    done
    ;;
down)
    for s in $SERVICES; do stop_service "$s"; done
    ;;
*)
    echo "usage: $0 up|env|down" >&2
    exit 2
    ;;
esac
