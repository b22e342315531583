# Sourced by the single-member comparisons (compare-single.sh, compare-gateway.sh): starts one real
# etcd 3.4 member and one cairn member on loopback, each with its own temporary data dir, stops both
# by PID on exit, and waits until `probe PORT` (a function the caller defines) succeeds on each.
# Reads ETCD_PORT, CAIRN_PORT (defaults 23790, 23791), CLIENT_SCHEME (http or https), SERVER_ARGS
# (flags both servers take: etcd's TLS flags) and CAIRN_ARGS (cairn's alone).

etcd_port=${ETCD_PORT:-23790}
cairn_port=${CAIRN_PORT:-23791}

dir=$(mktemp -d)
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap stop_all EXIT

wait_serving() {
  for _ in $(seq 1 100); do
    probe "$1" && return 0
    sleep 0.2
  done
  echo "nothing serves on 127.0.0.1:$1" >&2
  return 1
}

scheme=${CLIENT_SCHEME:-http}
# shellcheck disable=SC2086
etcd --data-dir "$dir/etcd" --log-level error ${SERVER_ARGS:-} \
  --listen-client-urls "$scheme://127.0.0.1:$etcd_port" --advertise-client-urls "$scheme://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$((etcd_port + 10))" --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 10))" \
  --initial-cluster "default=http://127.0.0.1:$((etcd_port + 10))" >"$dir/etcd.log" 2>&1 &
pids+=($!)
# shellcheck disable=SC2086
node core/bin/cairn.js --data-dir "$dir/cairn" --log-level warn ${SERVER_ARGS:-} \
  --listen-client-urls "$scheme://127.0.0.1:$cairn_port" --advertise-client-urls "$scheme://127.0.0.1:$cairn_port" \
  --listen-peer-urls "http://127.0.0.1:$((cairn_port + 10))" --initial-advertise-peer-urls "http://127.0.0.1:$((cairn_port + 10))" \
  ${CAIRN_ARGS:-} >"$dir/cairn.log" 2>&1 &
pids+=($!)
wait_serving "$etcd_port"
wait_serving "$cairn_port"
