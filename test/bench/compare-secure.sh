#!/usr/bin/env bash
# What auth and TLS cost, beside a real etcd 3.4 in the same run: for each mode a fresh single etcd
# member and a fresh single cairn member (loopback, temporary data dirs, stopped by PID), driven by
# the same `npm run bench` load.
#   plain  no auth, no TLS
#   auth   auth enabled, simple tokens; the load runs as a non-root user holding readwrite on the
#          bench keys' prefix (root skips the permission check in both servers)
#   tls    https client URLs; certificates made here with openssl (CA, server for 127.0.0.1)
# Needs `npm run build`, /usr/bin/etcd, /usr/bin/etcdctl and /usr/bin/openssl.
#
#   test/bench/compare-secure.sh                       # put, 64 clients, plain auth tls
#   MODES="plain tls" CLIENTS="1 64" DURATION=5 test/bench/compare-secure.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

modes=${MODES:-plain auth tls}
workload=${WORKLOAD:-put}
clients_list=${CLIENTS:-64}
duration=${DURATION:-10}
conns=${CONNS:-4}

certs=$(mktemp -d)
trap 'rm -rf "$certs"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca -keyout "$certs/ca.key" -out "$certs/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$certs/server.key" -out "$certs/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$certs/san.ext"
openssl x509 -req -in "$certs/server.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" -CAcreateserial -days 2 \
  -extfile "$certs/san.ext" -out "$certs/server.pem" 2>/dev/null

printf '%-6s %-8s %-8s %-6s %10s %9s %9s %9s %9s %8s\n' mode workload server clients ops/s p50ms p90ms p99ms maxms errors
for mode in $modes; do
  (
    ctl_flags=()
    bench_flags=()
    if [ "$mode" = tls ]; then
      export CLIENT_SCHEME=https
      export SERVER_ARGS="--cert-file $certs/server.pem --key-file $certs/server.key"
      ctl_flags=(--cacert "$certs/ca.pem")
      bench_flags=(--cacert "$certs/ca.pem")
    fi
    probe() { etcdctl "${ctl_flags[@]}" --endpoints "127.0.0.1:$1" --dial-timeout 1s endpoint health >/dev/null 2>&1; }
    # shellcheck source=test/bench/single-pair.sh
    source test/bench/single-pair.sh
    if [ "$mode" = auth ]; then
      for port in "$etcd_port" "$cairn_port"; do
        ctl() { etcdctl --endpoints "127.0.0.1:$port" "$@" >/dev/null; }
        ctl user add root:root-pw --interactive=false
        ctl role add root
        ctl user grant-role root root
        ctl user add bench:bench-pw --interactive=false
        ctl role add bench-rw
        ctl role grant-permission bench-rw readwrite --prefix 0
        ctl role add other-ro
        ctl role grant-permission other-ro read --prefix x
        ctl user grant-role bench bench-rw
        ctl user grant-role bench other-ro
        ctl auth enable
      done
      bench_flags=(--user bench:bench-pw)
    fi
    for clients in $clients_list; do
      for server in etcd cairn; do
        port=$etcd_port; [ "$server" = cairn ] && port=$cairn_port
        json=$(node --no-deprecation test/dist/bench/cli.js --endpoints "127.0.0.1:$port" --workload "$workload" "${bench_flags[@]}" \
          --clients "$clients" --conns "$conns" --duration "$duration" --json || true)
        node -e '
          const r = JSON.parse(process.argv[1]);
          const l = r.latencyMs;
          const f = (x) => x.toFixed(2).padStart(9);
          console.log(`${process.argv[2].padEnd(6)} ${process.argv[3].padEnd(8)} ${process.argv[4].padEnd(8)} ${process.argv[5].padEnd(6)} ${r.opsPerSec.toFixed(0).padStart(10)} ${f(l.p50)} ${f(l.p90)} ${f(l.p99)} ${f(l.max)} ${String(r.errors).padStart(8)}`);
        ' "$json" "$mode" "$workload" "$server" "$clients"
      done
    done
  )
done
