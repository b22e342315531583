# Sourced by the compare scripts that start 3-member clusters: free-port checks, and stopping every
# process they started by its PID. The sourcing script sets `dir` (its temporary directory) and
# appends each started PID to `pids`; `member_of[pid]` may name it for the exit report.

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Refuses to go on when a port of a cluster is taken: base..+2 (clients), +10..+12 (peers), and
# the extra offsets given.
require_free_ports() { # base [extra offset...]
  local base=$1 port
  shift
  for port in $base $((base + 1)) $((base + 2)) $((base + 10)) $((base + 11)) $((base + 12)); do
    if port_open "$port"; then
      echo "127.0.0.1:$port is in use; stop what listens there or move the clusters with ETCD_PORT= / CAIRN_PORT=" >&2
      exit 1
    fi
  done
  for port in "$@"; do
    if port_open "$((base + port))"; then
      echo "127.0.0.1:$((base + port)) is in use; stop what listens there or move the clusters with ETCD_PORT= / CAIRN_PORT=" >&2
      exit 1
    fi
  done
}

pids=()
declare -A member_of=()
# Not kill -0: our exited children stay zombies until we wait for them, and answer it.
runs() { local stat; stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; stat=${stat##*) }; [ "${stat:0:1}" != Z ]; }
stop_started() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do runs "$pid" || break; sleep 0.1; done
    runs "$pid" && { echo "pid $pid ignored SIGTERM for 10 s; killing it" >&2; kill -KILL "$pid" 2>/dev/null || true; }
    local code=0
    wait "$pid" 2>/dev/null || code=$?
    echo "${member_of[$pid]:-pid $pid} (pid $pid) exited with code $code" >&2
  done
  pids=()
}
trap 'stop_started; rm -rf "$dir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

endpoints() { echo "127.0.0.1:$1,127.0.0.1:$(($1 + 1)),127.0.0.1:$(($1 + 2))"; }
