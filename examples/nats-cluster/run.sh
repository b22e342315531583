#!/usr/bin/env bash
# Three Cairn members that reach each other only through NATS, all on loopback, on free ports.
#
#   ./run.sh start DIR                  one nats-server and three members, everything under DIR
#   ./run.sh start DIR --nats-cluster   three routed nats-servers, each member on its own
#   ./run.sh stop DIR                   stop them all by PID (SIGTERM, SIGKILL after 10 s)
#
# DIR gets: pids (every PID, one a line), endpoints (the members' client endpoints, comma-
# separated), <name>.pid, <name>.log and <name>.yaml / <name>.conf per process, data/ per member.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cairn="$root/core/bin/cairn.js"
members=(n1 n2 n3)

usage() {
  echo "usage: $0 start DIR [--nats-cluster] | $0 stop DIR" >&2
  exit 2
}

# A PID is ours while that process still runs with DIR on its command line (PIDs get reused).
ours() { # pid dir
  tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$2/" || return 1
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat:0:1}" != Z ]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# $1 ports the OS reports free (bound to 0 and released), one a line.
free_ports() {
  node -e '
    const net = require("node:net");
    const servers = Array.from({ length: Number(process.argv[1]) }, () => net.createServer());
    Promise.all(servers.map((s) => new Promise((r) => s.listen(0, "127.0.0.1", r)))).then(() => {
      const ports = servers.map((s) => s.address().port);
      Promise.all(servers.map((s) => new Promise((r) => s.close(r)))).then(() => console.log(ports.join("\n")));
    });' "$1"
}

wait_port() { # port name dir
  for _ in $(seq 1 300); do
    port_open "$1" && return 0
    ours "$(cat "$3/$2.pid")" "$3" || { echo "$2 exited; the end of $3/$2.log:" >&2; tail -n 20 "$3/$2.log" >&2; return 1; }
    sleep 0.1
  done
  echo "$2 does not serve on 127.0.0.1:$1 after 30 s; see $3/$2.log" >&2
  return 1
}

launch() { # name dir command...
  local name=$1 dir=$2
  shift 2
  # nohup: the processes outlive the terminal they were started from.
  nohup "$@" >>"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
  echo $! >>"$dir/pids"
}

start() { # dir [--nats-cluster]
  local dir=$1 routed=${2:-}
  [ -z "$routed" ] || [ "$routed" = --nats-cluster ] || usage
  [ -f "$root/core/dist/src/assembly/main.js" ] && [ -f "$root/plugins/transport-nats/dist/src/index.js" ] ||
    { echo "cairn is not built: run 'npm install' at the repository root" >&2; exit 1; }
  local nats_server
  nats_server=$(command -v nats-server || echo /usr/sbin/nats-server)
  [ -x "$nats_server" ] || { echo "nats-server is not installed (Debian: apt-get install nats-server)" >&2; exit 1; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ ! -s "$dir/pids" ] || { echo "$dir/pids exists: stop that cluster first ($0 stop $dir)" >&2; exit 1; }
  : >"$dir/pids"

  local servers=1
  [ -n "$routed" ] && servers=3
  local ports
  mapfile -t ports < <(free_ports $((servers * 2 + 3)))
  local nats_ports=("${ports[@]:0:servers}") route_ports=("${ports[@]:servers:servers}") client_ports=("${ports[@]:$((servers * 2)):3}")

  # The nats-servers: alone, or a full mesh of routes.
  local i j
  for ((i = 0; i < servers; i++)); do
    {
      echo "server_name: nats-$((i + 1))"
      echo "listen: 127.0.0.1:${nats_ports[$i]}"
      if [ -n "$routed" ]; then
        local routes=()
        for ((j = 0; j < servers; j++)); do [ "$j" -ne "$i" ] && routes+=("nats-route://127.0.0.1:${route_ports[$j]}"); done
        echo "cluster { name: cairn-example, listen: 127.0.0.1:${route_ports[$i]}, routes: [$(IFS=,; echo "${routes[*]}")] }"
      fi
    } >"$dir/nats-$((i + 1)).conf"
    launch "nats-$((i + 1))" "$dir" "$nats_server" -c "$dir/nats-$((i + 1)).conf"
  done
  for ((i = 0; i < servers; i++)); do wait_port "${nats_ports[$i]}" "nats-$((i + 1))" "$dir"; done

  # The members: peer URLs name subjects (nats://n1), the NATS servers come from the plugin's options.
  local cluster="n1=nats://n1,n2=nats://n2,n3=nats://n3"
  for i in 0 1 2; do
    local name=${members[$i]} client="http://127.0.0.1:${client_ports[$i]}" server_list
    if [ -n "$routed" ]; then server_list="\"nats://127.0.0.1:${nats_ports[$i]}\""; else server_list="\"nats://127.0.0.1:${nats_ports[0]}\""; fi
    cat >"$dir/$name.yaml" <<EOF
name: $name
data-dir: $dir/data/$name
listen-client-urls: $client
advertise-client-urls: $client
initial-advertise-peer-urls: nats://$name
initial-cluster: $cluster
initial-cluster-state: new
initial-cluster-token: nats-cluster-example
plugins:
  transport: { use: "@cairn/transport-nats", servers: [$server_list] }
EOF
    launch "$name" "$dir" node "$cairn" --config-file "$dir/$name.yaml"
  done
  for i in 0 1 2; do wait_port "${client_ports[$i]}" "${members[$i]}" "$dir"; done

  local endpoints
  endpoints=$(printf '127.0.0.1:%s,' "${client_ports[@]}")
  echo "${endpoints%,}" >"$dir/endpoints"
  echo "nats: $(for ((i = 0; i < servers; i++)); do printf 'nats://127.0.0.1:%s ' "${nats_ports[$i]}"; done)"
  for i in 0 1 2; do echo "${members[$i]} serves on 127.0.0.1:${client_ports[$i]} (pid $(cat "$dir/${members[$i]}.pid"), log $dir/${members[$i]}.log)"; done
  echo "ENDPOINTS=${endpoints%,}"
}

stop() { # dir
  local dir=$1
  [ -f "$dir/pids" ] || { echo "no $dir/pids: nothing started there" >&2; exit 1; }
  dir=$(cd "$dir" && pwd)
  # Members first (they would only reconnect to NATS), then the servers: the reverse of start.
  local pids=() pid
  mapfile -t pids < <(tac "$dir/pids")
  for pid in "${pids[@]}"; do ours "$pid" "$dir" && kill -TERM "$pid"; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do ours "$pid" "$dir" || break; sleep 0.1; done
    if ours "$pid" "$dir"; then
      echo "pid $pid did not stop within 10 s; killing it"
      kill -KILL "$pid"
    fi
  done
  rm -f "$dir/pids" "$dir"/*.pid
  echo "stopped ${#pids[@]} processes; data stays in $dir/data"
}

case "${1:-}" in
  start) [ $# -ge 2 ] && [ $# -le 3 ] || usage; start "$2" "${3:-}" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
