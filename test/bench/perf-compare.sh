#!/usr/bin/env bash
# `npm run bench:compare`: etcd 3.4 and Cairn side by side on this machine, and the table of
# docs/performance.md regenerated from what they did. For each member count (3 and 1), in each
# repetition, a fresh etcd cluster runs every row (test/bench/compare-rows.ts) and is stopped, then
# a fresh Cairn cluster (its default storage) does the same: etcd, cairn, etcd, cairn, ... One
# cluster runs at a time, on fixed loopback ports checked free first; every process started is
# stopped by its PID on exit (also on Ctrl-C or a failure) and every data dir removed. The medians,
# ratios and server CPU per put are test/bench/compare-report.ts's work.
#
#   npm run bench:compare                                  # every row, 3 and 1 members, 10 s a run, 3 repetitions
#   DURATION=3 REPS=3 npm run bench:compare                # a short run
#   ROWS="put watch-1" MEMBERS=1 REPS=1 DURATION=2 npm run bench:compare
#   GROWTH=1 KEYS="10000 100000" npm run bench:compare     # and the large-store table (KEYS default 1000000)
#   GROWTH_ONLY=1 KEYS=100000 npm run bench:compare        # only the large-store table
#
# Variables: DURATION (s a run, 10), REPS (3), MEMBERS ("3 1"), ROWS (row ids or prefixes, all),
# CONNS (gRPC connections of the multi-client rows, 4), ETCD_PORT / CAIRN_PORT (26790 / 26890:
# clients on PORT.., peers on PORT+10..), ETCD_ARGS / CAIRN_ARGS (extra flags for every member),
# NOTE (what else ran on the machine, printed in the doc), RESULTS / DOC (docs/performance-results.json,
# docs/performance.md), BUILD=0 (skip `npx tsc -b`), GROWTH=1 (GROWTH_ONLY=1: nothing else) with KEYS
# (key counts, "1000000") and VAL_SIZE (1024).
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=${DURATION:-10}
reps=${REPS:-3}
members_list=${MEMBERS:-3 1}
conns=${CONNS:-4}
etcd_port=${ETCD_PORT:-26790}
cairn_port=${CAIRN_PORT:-26890}
results=${RESULTS:-docs/performance-results.json}
doc=${DOC:-docs/performance.md}
keys_list=${KEYS:-1000000}
val_size=${VAL_SIZE:-1024}
# etcd's and cairn's own defaults (100 ms / 1000 ms), said here so both surely get them.
timing=(--heartbeat-interval 100 --election-timeout 1000)

# The exact command, environment included, for the doc.
command="npm run bench:compare"
for var in GROWTH_ONLY GROWTH VAL_SIZE KEYS CAIRN_ARGS ETCD_ARGS CAIRN_PORT ETCD_PORT CONNS ROWS MEMBERS REPS DURATION; do
  value=${!var:-}
  [ -z "$value" ] && continue
  if [[ $value == *\'* ]]; then value=$(printf '%q' "$value"); elif [[ ! $value =~ ^[A-Za-z0-9_.,:/=+-]+$ ]]; then value="'$value'"; fi
  command="$var=$value $command"
done

for tool in /usr/bin/etcd etcdctl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install etcd-server etcd-client)" >&2; exit 1; }
done
if [ "${BUILD:-1}" != 0 ]; then
  echo "building (npx tsc -b; BUILD=0 skips it)" >&2
  npx tsc -b
fi
rows=$(node test/dist/bench/compare-report.js rows --only "${ROWS:-}")

dir=$(mktemp -d)
# shellcheck source=test/bench/cluster-processes.sh
source test/bench/cluster-processes.sh
require_free_ports "$etcd_port" 20
require_free_ports "$cairn_port" 20
samples="$dir/samples.jsonl"
growth_file="$dir/growth.json"
: >"$samples"
began=$(date +%s)
# What is measured is the tree as built now: its commit, and whether core, plugins or adapters differed.
commit=$(git rev-parse --short HEAD)
dirty=()
git diff --quiet HEAD -- core plugins adapters || dirty=(--dirty)
clk_tck=$(getconf CLK_TCK)

# Starts the members of a cluster on data dirs under $2 (kept across restarts); no wait.
start_members() { # kind datadir base members
  local kind=$1 data=$2 base=$3 n=$4 i cluster="" client peer
  for ((i = 0; i < n; i++)); do cluster+="${cluster:+,}m$((i + 1))=http://127.0.0.1:$((base + 10 + i))"; done
  for ((i = 0; i < n; i++)); do
    client="http://127.0.0.1:$((base + i))" peer="http://127.0.0.1:$((base + 10 + i))"
    local flags=(--name "m$((i + 1))" --data-dir "$data/m$((i + 1))"
      --listen-client-urls "$client" --advertise-client-urls "$client"
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer"
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "perf-$kind" "${timing[@]}" "${@:5}")
    if [ "$kind" = etcd ]; then
      # shellcheck disable=SC2086
      /usr/bin/etcd "${flags[@]}" --log-level error ${ETCD_ARGS:-} >>"$data.m$((i + 1)).log" 2>&1 &
    else
      # shellcheck disable=SC2086
      node core/bin/cairn.js "${flags[@]}" --log-level warn ${CAIRN_ARGS:-} >>"$data.m$((i + 1)).log" 2>&1 &
    fi
    pids+=($!)
    member_of[$!]="$kind m$((i + 1))"
  done
}

# Waits until a leader is elected and every member is healthy (60 s at most).
await_cluster() { # kind datadir base members
  local pid
  for _ in $(seq 1 300); do
    if cluster_leader "$3" "$4" >/dev/null && etcdctl --endpoints "$(endpoints "$3" "$4")" --dial-timeout 1s endpoint health >/dev/null 2>&1; then
      return 0
    fi
    for pid in "${pids[@]}"; do
      runs "$pid" || { echo "$1 member (pid $pid) exited:" >&2; tail -n 20 "$2".m*.log >&2; exit 1; }
    done
    sleep 0.2
  done
  echo "$1 cluster did not become healthy within 60 s" >&2
  tail -n 20 "$2".m*.log >&2
  exit 1
}

# Runs one row against the cluster and appends its sample (JSON line) to $samples.
run_row() { # kind base members rep id phase script args
  local kind=$1 base=$2 n=$3 rep=$4 id=$5 script=$7 eps load cpu0 busy0 t0 out result
  local args=${8//\{conns\}/$conns}
  eps=$(cluster_leader "$base" "$n" || endpoints "$base" "$n")
  load=$(cut -d' ' -f1 /proc/loadavg)
  cpu0=$(processes_cpu_ticks "${pids[@]}") busy0=$(machine_busy_ticks) t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  out=$(node "test/dist/bench/$script" --endpoints "$eps" $args --duration "$duration" --json 2>"$dir/row.err") || true
  local cpu1 busy1 t1
  cpu1=$(processes_cpu_ticks "${pids[@]}") busy1=$(machine_busy_ticks) t1=$(date +%s.%N)
  result=$(tail -n 1 <<<"$out")
  if [[ $result != \{* ]]; then
    echo "$kind $n-member rep $rep $id: no result; $(tail -n 3 "$dir/row.err" | tr '\n' ' ')" >&2
    result=null
  fi
  printf '{"members":%d,"server":"%s","rep":%d,"row":"%s","serverCpuSec":%s,"machineBusySec":%s,"wallSec":%s,"loadAverage1":%s,"result":%s}\n' \
    "$n" "$kind" "$rep" "$id" "$(awk -v t=$((cpu1 - cpu0)) -v hz="$clk_tck" 'BEGIN { print t / hz }')" \
    "$(awk -v t=$((busy1 - busy0)) -v hz="$clk_tck" 'BEGIN { print t / hz }')" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    "$load" "$result" >>"$samples"
  echo "$kind $n-member rep $rep $id: $(node -e 'const r = JSON.parse(process.argv[1]); console.log(r === null ? "failed" : `${r.opsPerSec.toFixed(0)} ops/s, p50 ${r.latencyMs.p50.toFixed(2)} ms, p99 ${r.latencyMs.p99.toFixed(2)} ms, ${r.errors} errors`)' "$result")" >&2
}

# Every selected row against one fresh cluster; the read rows share one prefill of the key space.
bench_cluster() { # kind members rep
  local kind=$1 n=$2 rep=$3 base=$etcd_port data
  [ "$kind" = cairn ] && base=$cairn_port
  data="$dir/$kind-$n-$rep"
  start_members "$kind" "$data" "$base" "$n"
  await_cluster "$kind" "$data" "$base" "$n"
  local prefilled=0 id phase script args
  # The rows come on fd 3, so nothing the loop runs can read them from stdin.
  while IFS=$'\t' read -r -u 3 id phase script args; do
    if [ "$phase" = read ] && [ $prefilled = 0 ]; then
      node test/dist/bench/cli.js --endpoints "$(cluster_leader "$base" "$n" || endpoints "$base" "$n")" --conns "$conns" --clients 64 \
        --workload range --total 1 --json >/dev/null || echo "$kind $n-member rep $rep: the prefill failed, so the read rows read an empty key space" >&2
      prefilled=1
    fi
    run_row "$kind" "$base" "$n" "$rep" "$id" "$phase" "$script" "$args"
  done 3<<<"$rows"
  stop_started
  rm -rf "$data" "$data".m*.log
}

restart_overdue() { # kind began
  if awk -v a="$2" -v b="$(date +%s.%N)" 'BEGIN { exit !(b - a > 600) }'; then
    echo "$1 did not answer a read within 600 s of its restart" >&2
    exit 1
  fi
}

# One member of a server loaded with that many keys, measured, stopped and started again.
growth() { # kind keys
  local kind=$1 keys=$2 base=$etcd_port data pid key_size load puts restart_began restarted after
  [ "$kind" = cairn ] && base=$cairn_port
  data="$dir/$kind-growth-$keys"
  key_size=$((${#keys} > 8 ? ${#keys} : 8))
  # 1M keys of 1 KiB with their overhead could pass the default 2 GiB quota: both get 8 GiB.
  local quota=(--quota-backend-bytes 8589934592)
  start_members "$kind" "$data" "$base" 1 "${quota[@]}"
  await_cluster "$kind" "$data" "$base" 1
  pid=${pids[-1]}
  echo "$kind growth: writing $keys keys of $val_size B" >&2
  load=$(node test/dist/bench/cli.js --endpoints "127.0.0.1:$base" --conns "$conns" --clients 64 --workload range \
    --key-space "$keys" --key-size "$key_size" --val-size "$val_size" --prefill "$keys" --total 1 --json 2>"$dir/growth.err") || true
  if [[ $load != \{* ]]; then
    echo "$kind growth: the load failed, no figures for $kind: $(tail -n 3 "$dir/growth.err" | tr '\n' ' ')" >&2
    stop_started
    rm -rf "$data" "$data".m*.log
    return 0
  fi
  local rss rss_anon disk
  rss=$(awk '/^VmRSS:/ { print $2 / 1024 }' "/proc/$pid/status")
  rss_anon=$(awk '/^RssAnon:/ { print $2 / 1024 }' "/proc/$pid/status")
  disk=$(du -sm "$data" | cut -f1)
  puts=$(node test/dist/bench/cli.js --endpoints "127.0.0.1:$base" --conns "$conns" --clients 64 --workload put \
    --key-space "$keys" --key-size "$key_size" --val-size "$val_size" --duration "$duration" --json) || true
  stop_started
  restart_began=$(date +%s.%N)
  start_members "$kind" "$data" "$base" 1 "${quota[@]}"
  pid=${pids[-1]}
  # Serving means a linearizable read answers, not just an open port. etcdctl waits out its dial
  # timeout on a closed port, so the port is polled first: the figure's grain stays ~20 ms.
  until port_open "$base"; do
    runs "$pid" || { echo "$kind exited on restart:" >&2; tail -n 20 "$data".m1.log >&2; exit 1; }
    restart_overdue "$kind" "$restart_began"
    sleep 0.02
  done
  until etcdctl --endpoints "127.0.0.1:$base" --dial-timeout 1s --command-timeout 2s get probe >/dev/null 2>&1; do
    runs "$pid" || { echo "$kind exited on restart:" >&2; tail -n 20 "$data".m1.log >&2; exit 1; }
    restart_overdue "$kind" "$restart_began"
    sleep 0.05
  done
  restarted=$(awk -v a="$restart_began" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  local rss_restart
  rss_restart=$(awk '/^VmRSS:/ { print $2 / 1024 }' "/proc/$pid/status")
  after=$(node test/dist/bench/cli.js --endpoints "127.0.0.1:$base" --conns "$conns" --clients 64 --workload range \
    --key-space "$keys" --key-size "$key_size" --val-size "$val_size" --prefill 0 --duration "$duration" --json) || true
  stop_started
  rm -rf "$data" "$data".m*.log
  node -e '
    const [server, keys, valueBytes, load, rss, rssAnon, disk, restart, rssRestart, puts, after] = process.argv.slice(1);
    const parsed = (text) => (text.startsWith("{") ? JSON.parse(text) : { latencyMs: {} });
    const l = JSON.parse(load), p = parsed(puts), a = parsed(after);
    console.log(JSON.stringify({ server, keys: Number(keys), valueBytes: Number(valueBytes), loadSec: l.prefill.elapsedSec,
      loadPutsPerSec: l.prefill.keys / l.prefill.elapsedSec, rssMiB: Number(rss), rssAnonMiB: Number(rssAnon), diskMiB: Number(disk),
      restartSec: Number(restart), rssAfterRestartMiB: Number(rssRestart), putOpsPerSec: p.opsPerSec, putP99Ms: p.latencyMs.p99,
      rangeOpsPerSec: a.opsPerSec, rangeP99Ms: a.latencyMs.p99 }));
  ' "$kind" "$keys" "$val_size" "$load" "$rss" "$rss_anon" "$disk" "$restarted" "$rss_restart" "$puts" "$after" >>"$dir/growth.jsonl"
  echo "$kind growth at $keys keys: $(tail -n 1 "$dir/growth.jsonl")" >&2
}

if [ "${GROWTH_ONLY:-0}" = 0 ]; then
  for n in $members_list; do
    for rep in $(seq 1 "$reps"); do
      for kind in etcd cairn; do bench_cluster "$kind" "$n" "$rep"; done
    done
  done
fi
growth_args=()
if [ "${GROWTH:-0}" != 0 ] || [ "${GROWTH_ONLY:-0}" != 0 ]; then
  for keys in $keys_list; do
    for kind in etcd cairn; do growth "$kind" "$keys"; done
  done
  [ -s "$dir/growth.jsonl" ] || { echo "no large-store figures: every load failed" >&2; exit 1; }
  node -e 'const fs = require("node:fs"); fs.writeFileSync(process.argv[2], JSON.stringify(fs.readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse)))' \
    "$dir/growth.jsonl" "$growth_file"
  growth_args=(--growth "$growth_file")
fi

note=${NOTE:-}
[ "$(git rev-parse --short HEAD)" = "$commit" ] || note+="${note:+; }HEAD moved from $commit to $(git rev-parse --short HEAD) during the run"
node test/dist/bench/compare-report.js report --samples "$samples" --results "$results" --doc "$doc" \
  --commit "$commit" "${dirty[@]}" --etcd-version "$(/usr/bin/etcd --version | sed -n 's/^etcd Version: //p')" \
  --duration "$duration" --reps "$reps" --conns "$conns" --elapsed $(($(date +%s) - began)) --command "$command" --note "$note" "${growth_args[@]}"
# In the repository's JSON layout, so `npm run lint:format` passes on the file as written.
npx prettier --write "$results" >/dev/null
echo "wrote $results and the table in $doc ($(($(date +%s) - began)) s)" >&2
