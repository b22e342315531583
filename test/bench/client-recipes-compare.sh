#!/usr/bin/env bash
# Lock and election-failover figures of @cairn/client beside the etcd3 npm package's: starts a
# 3-member real etcd 3.4 cluster and a 3-member cairn cluster on fixed loopback ports (each with its
# own temporary data dirs, etcd's default timing: heartbeat 100 ms, election 1000 ms), runs
# client-recipes-compare.js against both in the same run, writes docs/client-recipes-bench.md, and
# stops every process it started by PID on exit. Needs `npx tsc -b test`, /usr/bin/etcd and etcdctl.
#
#   test/bench/client-recipes-compare.sh                       # 5 s per lock run, 3 failover rounds, TTL 2 s
#   DURATION=2 ROUNDS=2 test/bench/client-recipes-compare.sh   # the short form
#   OUT=/tmp/x.md test/bench/client-recipes-compare.sh         # somewhere else than docs/
#
# Ports: etcd's members serve clients on ETCD_PORT..+2 and peers on ETCD_PORT+10..+12; cairn's on
# CAIRN_PORT..+2 and CAIRN_PORT+10..+12. The script refuses to start if any of them is in use.
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=${DURATION:-5}
rounds=${ROUNDS:-3}
ttl=${TTL:-2}
out=${OUT:-docs/client-recipes-bench.md}
etcd_port=${ETCD_PORT:-25790}
cairn_port=${CAIRN_PORT:-25890}
timing=(--heartbeat-interval 100 --election-timeout 1000)

[ -f test/dist/bench/client-recipes-compare.js ] || { echo "test/dist/bench/client-recipes-compare.js is missing: run npx tsc -b test" >&2; exit 1; }
for tool in /usr/bin/etcd etcdctl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install etcd-server etcd-client)" >&2; exit 1; }
done
dir=$(mktemp -d)
# shellcheck source=test/bench/cluster-processes.sh
source test/bench/cluster-processes.sh
for base in "$etcd_port" "$cairn_port"; do require_free_ports "$base"; done

start_cluster() { # kind base
  local kind=$1 base=$2 i cluster="" client peer
  for i in 0 1 2; do cluster+="${cluster:+,}m$((i + 1))=http://127.0.0.1:$((base + 10 + i))"; done
  for i in 0 1 2; do
    client="http://127.0.0.1:$((base + i))" peer="http://127.0.0.1:$((base + 10 + i))"
    local flags=(--name "m$((i + 1))" --data-dir "$dir/$kind/m$((i + 1))"
      --listen-client-urls "$client" --advertise-client-urls "$client"
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer"
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "bench-$kind" "${timing[@]}")
    if [ "$kind" = etcd ]; then
      /usr/bin/etcd "${flags[@]}" --log-level error >"$dir/$kind-m$((i + 1)).log" 2>&1 &
    else
      node core/bin/cairn.js "${flags[@]}" --log-level warn >"$dir/$kind-m$((i + 1)).log" 2>&1 &
    fi
    pids+=($!)
  done
  for _ in $(seq 1 300); do
    etcdctl --endpoints "$(endpoints "$base")" --dial-timeout 1s endpoint health >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "$kind cluster did not become healthy within 60 s" >&2
  tail -n 20 "$dir"/"$kind"-m*.log >&2
  exit 1
}

start_cluster etcd "$etcd_port"
start_cluster cairn "$cairn_port"
notes="etcd $(/usr/bin/etcd --version | sed -n 's/^etcd Version: //p'), cairn $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- core plugins adapters || echo '+changes'); both clusters ran at once on one machine ($(nproc) cores)."
node test/dist/bench/client-recipes-compare.js --cluster "cairn=$(endpoints "$cairn_port")" --cluster "etcd=$(endpoints "$etcd_port")" \
  --duration "$duration" --rounds "$rounds" --ttl "$ttl" --out "$out" --notes "$notes"
