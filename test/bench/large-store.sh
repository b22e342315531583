#!/usr/bin/env bash
# The large-store check (not part of `npm test`): load KEYS keys of VAL_SIZE bytes into one cairn
# member on a storage plugin, then report load time, size on disk, the member's peak anonymous
# memory (RssAnon: file-backed mmap pages do not count), restart time and range latency after the
# restart. The member is started and stopped by PID. Needs `npm run build`.
#
#   test/bench/large-store.sh @cairn/storage-lmdb
#   KEYS=100000 test/bench/large-store.sh @cairn/storage-leveldb
set -euo pipefail
cd "$(dirname "$0")/../.."

storage=${1:?usage: test/bench/large-store.sh STORAGE-PLUGIN}
keys=${KEYS:-1000000}
val_size=${VAL_SIZE:-1024}
port=${PORT:-23797}
dir=${DATA_DIR:-$(mktemp -d)}
mkdir -p "$dir"
config="$dir/cairn.yaml"
printf 'plugins:\n  storage: { use: "%s" }\n' "$storage" > "$config"

pid=""
sampler=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -z "${DATA_DIR:-}" ] && rm -rf "$dir"
}
trap cleanup EXIT

start_member() {
  if etcdctl --endpoints "127.0.0.1:$port" --dial-timeout 1s endpoint health >/dev/null 2>&1; then
    echo "something already serves on 127.0.0.1:$port; stop it or set PORT=" >&2
    exit 1
  fi
  node core/bin/cairn.js --config-file "$config" --data-dir "$dir/data" --log-level warn \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$((port + 10))" --initial-advertise-peer-urls "http://127.0.0.1:$((port + 10))" \
    >>"$dir/cairn.log" 2>&1 &
  pid=$!
  local began; began=$(date +%s.%N)
  # Serving means a linearizable read answers, not just an open port.
  until etcdctl --endpoints "127.0.0.1:$port" --dial-timeout 1s --command-timeout 2s get probe >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "cairn exited; its log:"; tail -20 "$dir/cairn.log"; exit 1; }
    sleep 0.1
  done
  node -e "console.log((Number(process.argv[1]) - Number(process.argv[2])).toFixed(2))" "$(date +%s.%N)" "$began" > "$dir/start-sec"
}

# Peak RssAnon of the member, sampled every half second into a file.
sample_memory() {
  local peak=0 kb
  while kill -0 "$pid" 2>/dev/null; do
    kb=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${kb:-0}" -gt "$peak" ] && peak=$kb && echo "$peak" > "$dir/rss-peak-kb"
    sleep 0.5
  done
}

bench() {
  node test/dist/bench/cli.js --endpoints "127.0.0.1:$port" --clients 64 --conns 4 --val-size "$val_size" \
    --key-size 8 --key-space "$keys" --json "$@"
}

echo "storage $storage: $keys keys of $val_size B, data in $dir/data"
start_member
sample_memory & sampler=$!
loaded=$(bench --workload range --prefill "$keys" --duration 10)
load_sec=$(node -e 'console.log(JSON.parse(process.argv[1]).prefill.elapsedSec.toFixed(1))' "$loaded")
echo "load:            ${load_sec} s ($(node -e 'const r=JSON.parse(process.argv[1]); console.log(Math.round(r.prefill.keys / r.prefill.elapsedSec))' "$loaded") puts/s, 64 clients)"
echo "range after load: $(node -e 'const r=JSON.parse(process.argv[1]); console.log(`${Math.round(r.opsPerSec)} ops/s, p50 ${r.latencyMs.p50.toFixed(2)} ms, p99 ${r.latencyMs.p99.toFixed(2)} ms`)' "$loaded")"
echo "RssAnon peak:    $(( $(cat "$dir/rss-peak-kb") / 1024 )) MiB (now $(awk '/^RssAnon:/ {print int($2/1024)}' "/proc/$pid/status") MiB)"
echo "size on disk:    $(du -sm "$dir/data" | cut -f1) MiB"
kill "$sampler" 2>/dev/null || true; sampler=""

kill "$pid"; wait "$pid" 2>/dev/null || true
start_member
echo "restart:         $(cat "$dir/start-sec") s until a linearizable read answers"
echo "RssAnon after restart: $(awk '/^RssAnon:/ {print int($2/1024)}' "/proc/$pid/status") MiB"
after=$(bench --workload range --prefill 0 --duration 10)
echo "range after restart: $(node -e 'const r=JSON.parse(process.argv[1]); console.log(`${Math.round(r.opsPerSec)} ops/s, p50 ${r.latencyMs.p50.toFixed(2)} ms, p99 ${r.latencyMs.p99.toFixed(2)} ms, ${r.errors} errors`)' "$after")"
