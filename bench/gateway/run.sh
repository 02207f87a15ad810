#!/bin/sh
# POST /v1/events throughput and latency for 1 KB chat messages, next to GET /healthz on the same
# server in the same run: wrk on core 0 (taskset -c 0 wrk -t1 -c32 -d20s), the daemon alone on
# core 1, a fresh data folder, every decision durable in the audit log before its answer. At the
# end the log is verified and must hold every decision wrk saw answered.
#   bench/gateway/run.sh [SECONDS]
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-20}
barra=build/src/cli/barra
out=bench/out
mkdir -p "$out"
[ -f "$out/chat.txt" ] || python3 tests/gen/corpus.py chat --megabytes 100 >"$out/chat.txt"
t=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; rm -rf "$t"' EXIT
token=$($barra serve --new-token bench --scopes events | sed -n 's/^token: //p')
hash=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
python3 bench/gateway/make-events.py "$out/chat.txt" "$token" "$t/events.lua"
cat >"$t/barra.yaml" <<YAML
listen: 127.0.0.1:0
data_dir: $t/data
policy: $PWD/rules/policies/general.yaml
limits: {rate: 10000000, burst: 10000000, in_flight: 4096}
tokens:
  - {name: bench, sha256: $hash, scopes: [events]}
routes:
  local-vault: {type: vault}
YAML
taskset -c 1 $barra serve --config "$t/barra.yaml" >"$t/serve.out" 2>"$t/serve.err" &
pid=$!
for _ in $(seq 50); do grep -q listening "$t/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$t/serve.out")
taskset -c 0 wrk -t1 -c32 -d2s -s "$t/events.lua" "$url/v1/events" >/dev/null # warm up
taskset -c 0 wrk -t1 -c32 -d"${secs}s" --latency -s "$t/events.lua" "$url/v1/events" >"$t/events.txt"
taskset -c 0 wrk -t1 -c32 -d"${secs}s" --latency "$url/healthz" >"$t/health.txt"
kill -TERM "$pid"
wait "$pid" || true
pid=
fig() { # FILE -> "requests/s p50 p99 non-2xx"
    rps=$(awk '/^Requests\/sec/ {print $2}' "$1")
    p50=$(awk '$1 == "50%" {print $2}' "$1")
    p99=$(awk '$1 == "99%" {print $2}' "$1")
    bad=$(awk '/Non-2xx/ {print $NF}' "$1")
    echo "$rps $p50 $p99 ${bad:-0}"
}
set -- $(fig "$t/events.txt")
ev_rps=$1 ev_p50=$2 ev_p99=$3 ev_bad=$4
set -- $(fig "$t/health.txt")
printf '%-22s %12s %10s %10s %8s\n' endpoint "requests/s" p50 p99 non-2xx
printf '%-22s %12s %10s %10s %8s\n' "POST /v1/events" "$ev_rps" "$ev_p50" "$ev_p99" "$ev_bad"
printf '%-22s %12s %10s %10s %8s\n' "GET /healthz" "$1" "$2" "$3" "$4"
awk -v a="$ev_rps" -v b="$1" 'BEGIN {printf "events / healthz: %.2f\n", a / b}'
answered=$(awk '/requests in/ {print $1}' "$t/events.txt")
entries=$($barra log verify --log "$t/data/audit" | sed -n 's/^ok: \([0-9]*\) entries.*/\1/p')
echo "decisions answered (this run and the warm-up) all in the verified log: ${entries:-?} entries >= $answered"
[ "${entries:-0}" -ge "$answered" ]
