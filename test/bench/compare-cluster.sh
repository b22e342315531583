#!/usr/bin/env bash
# Side by side on one machine, in one run: a 3-member real etcd 3.4 cluster, then a 3-member cairn
# cluster (default storage: LMDB, fsync'd), each on fixed loopback ports and its own temporary data
# dirs, driven by the same `npm run bench` load. The clusters run one after the other, never at
# once, and every process is stopped by PID on exit. Needs `npm run build` (or `npx tsc -b test`),
# /usr/bin/etcd and etcdctl.
#
#   test/bench/compare-cluster.sh                   # put and range at 1, 64, 256 clients; 10 s each
#   WORKLOADS=put CLIENTS="64" DURATION=5 test/bench/compare-cluster.sh
#   TARGET=all test/bench/compare-cluster.sh        # load over all members instead of the leader
#   TARGET=follower test/bench/compare-cluster.sh   # load to one member that does not lead
#   CAIRN_ARGS="--config-file my.yaml" test/bench/compare-cluster.sh   # choose cairn's plugins
#   SERVERS="etcd cairn cairn-nats" WORKLOADS=put CLIENTS="1 64" test/bench/compare-cluster.sh   # cairn over NATS too
#   SERVERS=cairn WORKLOADS=put CLIENTS=64 DURATION=15 \
#     CAIRN_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" test/bench/compare-cluster.sh   # profile
#
# CAIRN_NODE_ARGS go to node before cairn.js; the script says which member (and PID) led each run
# and with what code each member exited, so the leader's profile can be picked (it is written at a
# normal exit, which SIGTERM gives).
#
# Ports: etcd's members serve clients on ETCD_PORT..+2 and peers on ETCD_PORT+10..+12; cairn's on
# CAIRN_PORT..+2 and CAIRN_PORT+10..+12. The script refuses to start if any of them is in use.
# cairn-nats: a 3-member cairn cluster whose members reach each other through one nats-server
# (@cairn/transport-nats, peer URLs nats://m1..m3) on CAIRN_NATS_PORT+20, clients on
# CAIRN_NATS_PORT..+2; its members get CAIRN_ARGS too, but their --config-file is the script's.
set -euo pipefail
cd "$(dirname "$0")/../.."

servers=${SERVERS:-etcd cairn}
workloads=${WORKLOADS:-put range}
clients_list=${CLIENTS:-1 64 256}
duration=${DURATION:-10}
# One connection per member when TARGET=all, so each member gets the same share of clients.
conns=${CONNS:-3}
target=${TARGET:-leader}
etcd_port=${ETCD_PORT:-24790}
cairn_port=${CAIRN_PORT:-24890}
cairn_nats_port=${CAIRN_NATS_PORT:-24990}
# etcd's and cairn's own defaults (100 ms / 1000 ms), said here so both clusters surely get them.
timing=(--heartbeat-interval 100 --election-timeout 1000)

case $target in leader | all | follower) ;; *) echo "TARGET must be leader, all or follower, not '$target'" >&2; exit 2 ;; esac
[ -f test/dist/bench/cli.js ] || { echo "test/dist/bench/cli.js is missing: run npm run build (or npx tsc -b test)" >&2; exit 1; }
for tool in /usr/bin/etcd etcdctl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install etcd-server etcd-client)" >&2; exit 1; }
done

case " $servers " in *" cairn-nats "*)
  nats_server=$(command -v nats-server || echo /usr/sbin/nats-server)
  [ -x "$nats_server" ] || { echo "nats-server is not installed (apt-get install nats-server)" >&2; exit 1; } ;;
esac
dir=$(mktemp -d)
declare -A pid_at=()
# shellcheck source=test/bench/cluster-processes.sh
source test/bench/cluster-processes.sh
for base in "$etcd_port" "$cairn_port" "$cairn_nats_port"; do require_free_ports "$base" 20; done

# The endpoint whose member says it leads, and the term: "127.0.0.1:port term". uint64 IDs are
# compared as digits (JSON.parse would round them).
leader_and_term() { # base
  etcdctl --endpoints "$(endpoints "$1")" --dial-timeout 1s --command-timeout 2s endpoint status -w json 2>/dev/null | node -e '
    let text = ""; process.stdin.on("data", (d) => { text += d; }).on("end", () => {
      for (const m of text.matchAll(/"Endpoint":"([^"]+)","Status":\{"header":\{[^}]*"member_id":(\d+)[^}]*"raft_term":(\d+)\},[^}]*?"leader":(\d+)/g)) {
        if (m[2] === m[4]) { console.log(`${m[1]} ${m[3]}`); return; }
      }
      process.exitCode = 1;
    });'
}

# The same, waiting up to 20 s for an election to end.
await_leader() { # base
  for _ in $(seq 1 100); do leader_and_term "$1" && return 0; sleep 0.2; done
  echo "none 0"
}

peer_url() { # kind base index
  if [ "$1" = cairn-nats ]; then echo "nats://m$(($3 + 1))"; else echo "http://127.0.0.1:$(($2 + 10 + $3))"; fi
}

start_cluster() { # kind base
  local kind=$1 base=$2 i cluster="" client peer
  for i in 0 1 2; do cluster+="${cluster:+,}m$((i + 1))=$(peer_url "$kind" "$base" "$i")"; done
  if [ "$kind" = cairn-nats ]; then
    # One nats-server on loopback; the members' config file chooses the NATS transport and names it.
    printf 'listen: 127.0.0.1:%s\n' $((base + 20)) >"$dir/nats-server.conf"
    "$nats_server" -c "$dir/nats-server.conf" >"$dir/nats-server.log" 2>&1 &
    pids+=($!)
    member_of[$!]="nats-server"
    for _ in $(seq 1 100); do port_open $((base + 20)) && break; sleep 0.1; done
    printf '{"plugins":{"transport":{"use":"@cairn/transport-nats","servers":["nats://127.0.0.1:%s"]}}}\n' $((base + 20)) >"$dir/cairn-nats.yaml"
  fi
  for i in 0 1 2; do
    client="http://127.0.0.1:$((base + i))" peer=$(peer_url "$kind" "$base" "$i")
    local flags=(--name "m$((i + 1))" --data-dir "$dir/$kind/m$((i + 1))"
      --listen-client-urls "$client" --advertise-client-urls "$client"
      --initial-advertise-peer-urls "$peer"
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "bench-$kind" "${timing[@]}")
    [ "$kind" = cairn-nats ] || flags+=(--listen-peer-urls "$peer")
    if [ "$kind" = etcd ]; then
      # shellcheck disable=SC2086
      /usr/bin/etcd "${flags[@]}" --log-level error ${ETCD_ARGS:-} >"$dir/$kind-m$((i + 1)).log" 2>&1 &
    else
      local transport=()
      [ "$kind" = cairn-nats ] && transport=(--config-file "$dir/cairn-nats.yaml")
      # shellcheck disable=SC2086
      node ${CAIRN_NODE_ARGS:-} core/bin/cairn.js "${flags[@]}" --log-level warn ${CAIRN_ARGS:-} "${transport[@]}" >"$dir/$kind-m$((i + 1)).log" 2>&1 &
    fi
    pids+=($!)
    member_of[$!]="$kind m$((i + 1))"
    pid_at[$((base + i))]=$!
  done
  # Ready when a leader has been elected (endpoint status names one) and every member is healthy.
  for _ in $(seq 1 300); do
    if leader_and_term "$base" >/dev/null && etcdctl --endpoints "$(endpoints "$base")" --dial-timeout 1s endpoint health >/dev/null 2>&1; then
      return 0
    fi
    for pid in "${pids[@]}"; do
      runs "$pid" || { echo "$kind member (pid $pid) exited:" >&2; tail -n 20 "$dir"/"$kind"-m*.log >&2; exit 1; }
    done
    sleep 0.2
  done
  echo "$kind cluster did not become healthy within 60 s" >&2
  tail -n 20 "$dir"/"$kind"-m*.log >&2
  exit 1
}

bench_cluster() { # kind base
  local kind=$1 base=$2 workload clients before after eps
  for workload in $workloads; do
    local prefill=()
    if [ "$workload" != put ] && [ "$workload" != txn ]; then
      # Write the key space once at 64 clients, not again before every client count.
      node test/dist/bench/cli.js --endpoints "$(endpoints "$base")" --conns 3 --clients 64 \
        --workload "$workload" --total 1 --json >/dev/null
      prefill=(--prefill 0)
    fi
    for clients in $clients_list; do
      before=$(await_leader "$base")
      eps=${before% *}
      [ "$target" = all ] && eps=$(endpoints "$base")
      if [ "$target" = follower ]; then
        # The first member's port that is not the leader's.
        local leader_port=${eps##*:} i
        for i in 0 1 2; do [ $((base + i)) != "$leader_port" ] && { eps="127.0.0.1:$((base + i))"; break; }; done
      fi
      node test/dist/bench/cli.js --endpoints "$eps" --workload "$workload" --clients "$clients" --conns "$conns" \
        --duration "$duration" "${prefill[@]}" --json >"$dir/result-$kind-$workload-$clients.json" || true
      after=$(await_leader "$base")
      echo "$before" >"$dir/term-$kind-$workload-$clients.before"
      echo "$after" >"$dir/term-$kind-$workload-$clients.after"
      local port=${before% *}; port=${port##*:}
      echo "$kind $workload $clients clients done; leader ${member_of[${pid_at[$port]:-}]:-unknown} (pid ${pid_at[$port]:-?}) before, $after after (endpoint term)" >&2
    done
  done
}

for kind in $servers; do
  case $kind in etcd) base=$etcd_port ;; cairn) base=$cairn_port ;; cairn-nats) base=$cairn_nats_port ;; *) echo "unknown server '$kind' (etcd, cairn, cairn-nats)" >&2; exit 2 ;; esac
  start_cluster "$kind" "$base"
  bench_cluster "$kind" "$base"
  stop_started
done

case $target in leader) to="the leader's client port" ;; follower) to="one follower's client port" ;; *) to="all three members, connections round-robin" ;; esac
echo "load to $to: $conns connections, ${duration} s a run; etcd $(/usr/bin/etcd --version | sed -n 's/^etcd Version: //p'), cairn $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- core plugins || echo '+changes')"
node -e '
  const fs = require("node:fs");
  const [dir, workloads, clientsList, serverList] = process.argv.slice(1);
  const servers = serverList.split(/\s+/).filter(Boolean);
  const read = (kind, w, c) => {
    try { return JSON.parse(fs.readFileSync(`${dir}/result-${kind}-${w}-${c}.json`, "utf8")); } catch { return undefined; }
  };
  // A leader change or a new term during a run makes its figures suspect: flag it.
  const moved = (kind, w, c) => {
    const t = (s) => { try { return fs.readFileSync(`${dir}/term-${kind}-${w}-${c}.${s}`, "utf8").trim(); } catch { return ""; } };
    return t("before") !== t("after");
  };
  const num = (r, f) => (r === undefined ? "n/a" : f(r));
  const ops = (r) => num(r, (x) => x.opsPerSec.toFixed(0));
  const lat = (r) => num(r, (x) => `${x.latencyMs.p50.toFixed(2)}/${x.latencyMs.p99.toFixed(2)}`);
  const ratio = (a, b) => (a && b ? (a.opsPerSec / b.opsPerSec).toFixed(2) : "n/a");
  // etcd and cairn as always; cairn over NATS adds its own columns and its ratio to cairn over TCP.
  const nats = servers.includes("cairn-nats");
  const short = { etcd: "e", cairn: "c", "cairn-nats": "n" };
  const shown = ["etcd", "cairn", ...(nats ? ["cairn-nats"] : [])];
  const cols = ["workload", "clients", ...shown.map((k) => `${k} ops/s`), "cairn/etcd", ...(nats ? ["nats/tcp"] : []),
    ...shown.map((k) => `${k} p50/p99 ms`), `errors ${shown.map((k) => short[k]).join("/")}`, `bench cpu ${shown.map((k) => short[k]).join("/")}`, "notes"];
  const rows = [cols];
  for (const w of workloads.split(/\s+/).filter(Boolean)) {
    for (const c of clientsList.split(/\s+/).filter(Boolean)) {
      const r = Object.fromEntries(shown.map((k) => [k, read(k, w, c)]));
      const notes = [];
      for (const k of shown) if (moved(k, w, c)) notes.push(`${k} leader/term changed`);
      for (const k of shown) if (r[k] !== undefined && r[k].cpu.percentOfOneCore >= 90) notes.push(`bench-bound on ${k}`);
      rows.push([w, c, ...shown.map((k) => ops(r[k])), ratio(r.cairn, r.etcd), ...(nats ? [ratio(r["cairn-nats"], r.cairn)] : []),
        ...shown.map((k) => lat(r[k])), shown.map((k) => num(r[k], (x) => x.errors)).join("/"),
        shown.map((k) => `${num(r[k], (x) => x.cpu.percentOfOneCore.toFixed(0))}%`).join("/"), notes.join("; ")]);
    }
  }
  const widths = cols.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log(r.map((v, i) => (i < 2 || i === r.length - 1 ? String(v).padEnd(widths[i]) : String(v).padStart(widths[i]))).join("  ").trimEnd());
' "$dir" "$workloads" "$clients_list" "$servers"
