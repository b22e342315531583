#!/usr/bin/env bash
# Side by side on one machine, in one run: a single real etcd 3.4 member and a single cairn member,
# each on its own loopback port and temporary data dir, driven by the same `npm run bench` load.
# Both processes are stopped by PID at the end. Needs `npm run build` and /usr/bin/etcd.
#
#   test/bench/compare-single.sh                          # put, range, range-serializable at 64 clients
#   WORKLOADS="put txn" CLIENTS="1 64 256" DURATION=5 test/bench/compare-single.sh
#   CAIRN_ARGS="--config-file my.yaml" test/bench/compare-single.sh   # choose cairn's plugins
set -euo pipefail
cd "$(dirname "$0")/../.."

workloads=${WORKLOADS:-put range range-serializable}
clients_list=${CLIENTS:-64}
duration=${DURATION:-10}
conns=${CONNS:-4}
probe() { etcdctl --endpoints "127.0.0.1:$1" --dial-timeout 1s endpoint health >/dev/null 2>&1; }
# shellcheck source=test/bench/single-pair.sh
source test/bench/single-pair.sh

printf '%-20s %-8s %-6s %10s %9s %9s %9s %9s %8s\n' workload server clients ops/s p50ms p90ms p99ms maxms errors
for workload in $workloads; do
  for clients in $clients_list; do
    for server in etcd cairn; do
      port=$etcd_port; [ "$server" = cairn ] && port=$cairn_port
      json=$(node test/dist/bench/cli.js --endpoints "127.0.0.1:$port" --workload "$workload" \
        --clients "$clients" --conns "$conns" --duration "$duration" --json || true)
      node -e '
        const r = JSON.parse(process.argv[1]);
        const l = r.latencyMs;
        const f = (x) => x.toFixed(2).padStart(9);
        console.log(`${process.argv[2].padEnd(20)} ${process.argv[3].padEnd(8)} ${process.argv[4].padEnd(6)} ${r.opsPerSec.toFixed(0).padStart(10)} ${f(l.p50)} ${f(l.p90)} ${f(l.p99)} ${f(l.max)} ${String(r.errors).padStart(8)}`);
      ' "$json" "$workload" "$server" "$clients"
    done
  done
done
