#!/usr/bin/env bash
# Server CPU per acknowledged put: starts a 3-member cluster (cairn, and etcd 3.4 when asked), writes
# WARMUP puts, then ROUNDS times reads utime+stime of the three members from /proc/<pid>/stat, sends
# PUTS puts to the leader (CLIENTS clients, one request in flight each) and reads the clock ticks
# again. Prints ms of CPU per put for the leader, each follower and the three summed, per round
# and the median. With SERVERS="cairn etcd" the clusters run one after the other (never at once)
# and their rounds are printed side by side. Every process is stopped by its PID on exit.
# Needs `npx tsc -b` (test/dist/bench/cli.js, core/dist), etcdctl, and /usr/bin/etcd for etcd.
#
#   test/bench/cpu-per-put.sh                                  # cairn, 64 clients, 20000 puts, 3 rounds
#   SERVERS="cairn etcd" ROUNDS=5 test/bench/cpu-per-put.sh
#   CAIRN_NODE_ARGS="--trace-gc" LOG_DIR=/tmp/gc PUTS=10000 test/bench/cpu-per-put.sh   # members' output kept
#
# The machine may be shared: a member's CPU counts only its own process, not the load generator's,
# but other work on the cores still slows the run (and so the ops/s printed beside the CPU).
set -euo pipefail
cd "$(dirname "$0")/../.."

servers=${SERVERS:-cairn}
rounds=${ROUNDS:-3}
puts=${PUTS:-20000}
warmup=${WARMUP:-5000}
clients=${CLIENTS:-64}
conns=${CONNS:-3}
etcd_port=${ETCD_PORT:-25790}
cairn_port=${CAIRN_PORT:-25890}
timing=(--heartbeat-interval 100 --election-timeout 1000)
tick=$(getconf CLK_TCK)

[ -f test/dist/bench/cli.js ] || { echo "test/dist/bench/cli.js is missing: run npx tsc -b" >&2; exit 1; }
command -v etcdctl >/dev/null || { echo "etcdctl is not installed (apt-get install etcd-client)" >&2; exit 1; }
dir=$(mktemp -d)
# LOG_DIR keeps the members' output (e.g. --trace-gc lines) after the run.
logs=${LOG_DIR:-$dir}
mkdir -p "$logs"
# shellcheck source=test/bench/cluster-processes.sh
source test/bench/cluster-processes.sh
declare -A pid_at=()
for base in "$etcd_port" "$cairn_port"; do require_free_ports "$base"; done

# The client port of the member that says it leads (uint64 IDs compared as digits).
leader_port() { # base
  etcdctl --endpoints "$(endpoints "$1")" --dial-timeout 1s --command-timeout 2s endpoint status -w json 2>/dev/null | node -e '
    let text = ""; process.stdin.on("data", (d) => { text += d; }).on("end", () => {
      for (const m of text.matchAll(/"Endpoint":"[^"]*:(\d+)","Status":\{"header":\{[^}]*"member_id":(\d+)[^}]*\},[^}]*?"leader":(\d+)/g)) {
        if (m[2] === m[3]) { console.log(m[1]); return; }
      }
      process.exitCode = 1;
    });'
}

# utime + stime of a process, in clock ticks.
cpu_ticks() { local stat; stat=$(cat "/proc/$1/stat"); stat=${stat##*) }; set -- $stat; echo $((${12} + ${13})); }

start_cluster() { # kind base
  local kind=$1 base=$2 i cluster="" client peer
  for i in 0 1 2; do cluster+="${cluster:+,}m$((i + 1))=http://127.0.0.1:$((base + 10 + i))"; done
  for i in 0 1 2; do
    client="http://127.0.0.1:$((base + i))" peer="http://127.0.0.1:$((base + 10 + i))"
    local flags=(--name "m$((i + 1))" --data-dir "$dir/$kind/m$((i + 1))" --listen-client-urls "$client" --advertise-client-urls "$client"
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "$cluster"
      --initial-cluster-state new --initial-cluster-token "cpu-$kind" "${timing[@]}")
    if [ "$kind" = etcd ]; then
      # shellcheck disable=SC2086
      /usr/bin/etcd "${flags[@]}" --log-level error ${ETCD_ARGS:-} >"$logs/$kind-m$((i + 1)).log" 2>&1 &
    else
      # shellcheck disable=SC2086
      node ${CAIRN_NODE_ARGS:-} core/bin/cairn.js "${flags[@]}" --log-level warn ${CAIRN_ARGS:-} >"$logs/$kind-m$((i + 1)).log" 2>&1 &
    fi
    pids+=($!)
    member_of[$!]="$kind m$((i + 1))"
    pid_at[$((base + i))]=$!
  done
  for _ in $(seq 1 300); do
    if leader_port "$base" >/dev/null && etcdctl --endpoints "$(endpoints "$base")" --dial-timeout 1s endpoint health >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "$kind cluster did not become healthy within 60 s" >&2
  tail -n 20 "$logs"/"$kind"-m*.log >&2
  exit 1
}

measure_cluster() { # kind base
  local kind=$1 base=$2 round port lead members before after ops
  port=$(leader_port "$base")
  lead=${pid_at[$port]}
  members=("$lead")
  for i in 0 1 2; do [ $((base + i)) != "$port" ] && members+=("${pid_at[$((base + i))]}"); done
  echo "$kind: leader m$((port - base + 1)) (pid $lead), followers pids ${members[1]} ${members[2]}" >&2
  node test/dist/bench/cli.js --endpoints "127.0.0.1:$port" --workload put --clients "$clients" --conns "$conns" --total "$warmup" --json >/dev/null
  for round in $(seq 1 "$rounds"); do
    before=()
    for pid in "${members[@]}"; do before+=("$(cpu_ticks "$pid")"); done
    node test/dist/bench/cli.js --endpoints "127.0.0.1:$port" --workload put --clients "$clients" --conns "$conns" --total "$puts" --json >"$dir/run.json" || true
    after=()
    for pid in "${members[@]}"; do after+=("$(cpu_ticks "$pid")"); done
    [ "$(leader_port "$base")" = "$port" ] || echo "$kind round $round: the leader changed during the run" >&2
    ops=$(node -e '
      const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
      if (r.errors > 0) console.error(`${process.argv[2]}: ${r.errors} failed puts, e.g. ${r.errorSamples.join(" | ")}`);
      console.log(`${r.opsPerSec.toFixed(0)} ${r.errors}`)' "$dir/run.json" "$kind round $round")
    echo "$kind $round ${ops% *} ${ops#* } $((after[0] - before[0])) $((after[1] - before[1])) $((after[2] - before[2]))" >>"$dir/rounds"
  done
}

for kind in $servers; do
  case $kind in etcd) base=$etcd_port ;; cairn) base=$cairn_port ;; *) echo "unknown server '$kind' (cairn, etcd)" >&2; exit 2 ;; esac
  start_cluster "$kind" "$base"
  measure_cluster "$kind" "$base"
  stop_started
done

echo "server CPU per acknowledged put, ms (from /proc utime+stime); $puts puts a round, $clients clients, $conns connections to the leader; cairn $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- core plugins || echo '+changes')"
node -e '
  const [file, puts, tick] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
  const rows = require("node:fs").readFileSync(file, "utf8").trim().split("\n").map((l) => l.split(" "));
  const ms = (t) => (Number(t) * 1000) / tick / puts;
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  console.log("server  round  ops/s  errors  leader  follower1  follower2  sum");
  const by = {};
  for (const [kind, round, ops, errors, l, f1, f2] of rows) {
    const v = [ms(l), ms(f1), ms(f2)];
    const sum = v[0] + v[1] + v[2];
    (by[kind] ??= []).push([Number(ops), ...v, sum]);
    console.log([kind.padEnd(6), round.padStart(5), ops.padStart(6), errors.padStart(6), ...[...v, sum].map((x) => x.toFixed(3).padStart(9))].join("  "));
  }
  for (const [kind, list] of Object.entries(by)) {
    const col = (i) => median(list.map((r) => r[i]));
    console.log([kind.padEnd(6), "median".padStart(5), col(0).toFixed(0).padStart(6), "".padStart(6), ...[1, 2, 3, 4].map((i) => col(i).toFixed(3).padStart(9))].join("  "));
  }
' "$dir/rounds" "$puts" "$tick"
