#!/usr/bin/env bash
# JSON puts through etcd's v3 gateway (POST /v3/kv/put), Cairn's beside etcd 3.4's, on one machine
# in one run: a single real etcd member and a single cairn member on loopback, each with its own
# temporary data dir, driven in turns (etcd, cairn, etcd, cairn, ...) by test/bench/gateway-put-load.ts
# with concurrent HTTP/1.1 keep-alive clients. Both processes are stopped by PID at the end.
# Needs `npm run build` and /usr/bin/etcd. A benchmark, not a test.
#
#   test/bench/compare-gateway.sh                     # 64 clients, 10 s a run, 2 rounds (after 5 s unmeasured each)
#   CLIENTS="1 64" DURATION=5 ROUNDS=3 WARMUP=10 test/bench/compare-gateway.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

clients_list=${CLIENTS:-64}
duration=${DURATION:-10}
rounds=${ROUNDS:-2}
probe() { curl -s -X POST -d '{}' "http://127.0.0.1:$1/v3/maintenance/status" | grep -q '"leader"'; }
# shellcheck source=test/bench/single-pair.sh
source test/bench/single-pair.sh

# One unmeasured run on each first: a fresh member's first seconds (files created, code not yet
# optimized) are not what either server sustains.
for port in "$etcd_port" "$cairn_port"; do
  node test/dist/bench/gateway-put-load.js --endpoint "127.0.0.1:$port" --clients 64 --duration "${WARMUP:-5}" --json >/dev/null || true
done

printf '%-6s %-8s %-8s %10s %9s %9s %9s %9s %8s %9s\n' round server clients ops/s p50ms p90ms p99ms maxms errors bench-cpu
for clients in $clients_list; do
  for round in $(seq 1 "$rounds"); do
    for server in etcd cairn; do
      port=$etcd_port; [ "$server" = cairn ] && port=$cairn_port
      json=$(node test/dist/bench/gateway-put-load.js --endpoint "127.0.0.1:$port" --clients "$clients" --duration "$duration" --json || true)
      node -e '
        const r = JSON.parse(process.argv[1]);
        const l = r.latencyMs;
        const f = (x) => x.toFixed(2).padStart(9);
        console.log(`${process.argv[2].padEnd(6)} ${process.argv[3].padEnd(8)} ${String(r.clients).padEnd(8)} ${r.opsPerSec.toFixed(0).padStart(10)} ${f(l.p50)} ${f(l.p90)} ${f(l.p99)} ${f(l.max)} ${String(r.errors).padStart(8)} ${(r.cpuPercentOfOneCore.toFixed(0) + "%").padStart(9)}`);
      ' "$json" "$round" "$server"
    done
  done
done
