#!/usr/bin/env bash
# Starts the members of the three-member cluster in the background, each from its config file
# (n1.yaml, n2.yaml, n3.yaml), with its log and PID file in run/ and its data in data/.
#
#   ./start.sh           every member that is not running yet
#   ./start.sh n2        only n2 (e.g. again after you killed it)
#
# Overrides, all optional (the example's test uses them to run on free ports in a temp dir):
#   CLUSTER_DIR=/some/dir             data/ and run/ go there instead of next to this script
#   CLIENT_PORTS="p1 p2 p3" PEER_PORTS="q1 q2 q3"   loopback ports instead of the config files'
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cairn="$here/../../core/bin/cairn.js"
dir=${CLUSTER_DIR:-$here}
run="$dir/run"
all=(n1 n2 n3)
if [ $# -gt 0 ]; then names=("$@"); else names=("${all[@]}"); fi

[ -f "$here/../../core/dist/src/assembly/main.js" ] || { echo "cairn is not built: run 'npm install' at the repository root" >&2; exit 1; }

# The config files hold the default ports; read them from there so they are said once.
config_port() { # file key
  sed -n "s#^$2: http://127\.0\.0\.1:\([0-9]*\)\$#\1#p" "$1"
}
client_ports=() peer_ports=()
if [ -n "${CLIENT_PORTS:-}${PEER_PORTS:-}" ]; then
  read -ra client_ports <<<"${CLIENT_PORTS:?set CLIENT_PORTS with PEER_PORTS}"
  read -ra peer_ports <<<"${PEER_PORTS:?set PEER_PORTS with CLIENT_PORTS}"
  [ "${#client_ports[@]}" -eq 3 ] && [ "${#peer_ports[@]}" -eq 3 ] || { echo "CLIENT_PORTS and PEER_PORTS take 3 ports each" >&2; exit 2; }
else
  for name in "${all[@]}"; do
    client_ports+=("$(config_port "$here/$name.yaml" listen-client-urls)")
    peer_ports+=("$(config_port "$here/$name.yaml" listen-peer-urls)")
  done
fi

index_of() { # name -> 0..2
  local i
  for i in "${!all[@]}"; do [ "${all[$i]}" = "$1" ] && { echo "$i"; return; }; done
  echo "unknown member '$1' (the members are ${all[*]})" >&2
  exit 2
}

# Flags override the config file's keys: only what CLUSTER_DIR / *_PORTS change.
override_flags() { # index
  local i=$1 client="http://127.0.0.1:${client_ports[$1]}" peer="http://127.0.0.1:${peer_ports[$1]}"
  if [ -n "${CLIENT_PORTS:-}" ]; then
    printf '%s\n' --listen-client-urls "$client" --advertise-client-urls "$client" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
      --initial-cluster "n1=http://127.0.0.1:${peer_ports[0]},n2=http://127.0.0.1:${peer_ports[1]},n3=http://127.0.0.1:${peer_ports[2]}"
  fi
  if [ -n "${CLUSTER_DIR:-}" ]; then printf '%s\n' --data-dir "$dir/data/${all[$i]}"; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A PID file names our member only while that process runs cairn with this member's config.
running_pid() { # name
  local pid
  pid=$(cat "$run/$1.pid" 2>/dev/null) || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "--config-file $here/$1.yaml" || return 1
  echo "$pid"
}

mkdir -p "$run"
started=()
for name in "${names[@]}"; do
  i=$(index_of "$name")
  if pid=$(running_pid "$name"); then echo "$name is already running (pid $pid)"; continue; fi
  for port in "${client_ports[$i]}" "${peer_ports[$i]}"; do
    if port_open "$port"; then
      echo "127.0.0.1:$port is in use by another process; stop it, or choose ports with CLIENT_PORTS/PEER_PORTS" >&2
      exit 1
    fi
  done
  mapfile -t extra < <(override_flags "$i")
  # nohup: the member outlives the terminal this was started from.
  nohup node "$cairn" --config-file "$here/$name.yaml" "${extra[@]}" >>"$run/$name.log" 2>&1 &
  echo $! >"$run/$name.pid"
  started+=("$name")
done

# A member serves once its client port accepts connections; a leader follows within a second or two.
for name in "${started[@]}"; do
  i=$(index_of "$name")
  for _ in $(seq 1 300); do
    port_open "${client_ports[$i]}" && break
    if ! running_pid "$name" >/dev/null; then
      echo "$name exited; the end of $run/$name.log:" >&2
      tail -n 20 "$run/$name.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  port_open "${client_ports[$i]}" || { echo "$name does not serve on 127.0.0.1:${client_ports[$i]} after 30 s; see $run/$name.log" >&2; exit 1; }
  echo "$name serves on 127.0.0.1:${client_ports[$i]} (pid $(cat "$run/$name.pid"), log $run/$name.log)"
done

endpoints=$(printf '127.0.0.1:%s,' "${client_ports[@]}")
echo "ENDPOINTS=${endpoints%,}"
