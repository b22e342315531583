# Sourced by the compare scripts that start clusters (compare-cluster.sh, perf-compare.sh, ...):
# free-port checks, stopping every process they started by its PID, the leader's endpoint, and the
# CPU time of processes and of the machine from /proc. The sourcing script sets `dir` (its
# temporary directory) and appends each started PID to `pids`; `member_of[pid]` may name it for
# the exit report.

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

# The client endpoints of a cluster whose members serve on base, base+1, ...: 3 members unless told.
endpoints() { # base [members]
  local i out=""
  for ((i = 0; i < ${2:-3}; i++)); do out+="${out:+,}127.0.0.1:$(($1 + i))"; done
  echo "$out"
}

# The endpoint whose member says it leads ("127.0.0.1:port"), or a failure. uint64 IDs are
# compared as digits (JSON.parse would round them).
cluster_leader() { # base [members]
  etcdctl --endpoints "$(endpoints "$1" "${2:-3}")" --dial-timeout 1s --command-timeout 2s endpoint status -w json 2>/dev/null | node -e '
    let text = ""; process.stdin.on("data", (d) => { text += d; }).on("end", () => {
      for (const m of text.matchAll(/"Endpoint":"([^"]+)","Status":\{"header":\{[^}]*"member_id":(\d+)[^}]*\},[^}]*?"leader":(\d+)/g)) {
        if (m[2] === m[3]) { console.log(m[1]); return; }
      }
      process.exitCode = 1;
    });'
}

# CPU time (utime + stime, every thread) the given processes have used together, in clock ticks
# (getconf CLK_TCK a second); a process that is gone counts 0.
processes_cpu_ticks() { # pid...
  local pid stat fields total=0
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    # After "pid (comm) ": field 3 (state) is the first, so utime (14) and stime (15) are the 12th and 13th.
    read -ra fields <<<"${stat##*) }"
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

# Busy CPU time of the whole machine since boot, in clock ticks: user nice system irq softirq steal.
machine_busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
