#!/usr/bin/env bash
# Stops the members start.sh started, by the PIDs in run/: SIGTERM, then SIGKILL after 10 s.
#
#   ./stop.sh            every member
#   ./stop.sh n1         only n1
#
# CLUSTER_DIR as for start.sh. Data stays in data/; `rm -rf data run` starts over.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run="${CLUSTER_DIR:-$here}/run"
if [ $# -gt 0 ]; then names=("$@"); else names=(n1 n2 n3); fi

# Only a process that still runs cairn with this member's config is ours: a PID may be reused.
running_pid() { # name
  local pid
  pid=$(cat "$run/$1.pid" 2>/dev/null) || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "--config-file $here/$1.yaml" || return 1
  echo "$pid"
}

stopping=()
for name in "${names[@]}"; do
  if pid=$(running_pid "$name"); then
    kill -TERM "$pid"
    stopping+=("$name:$pid")
  else
    echo "$name is not running"
  fi
done

for entry in "${stopping[@]}"; do
  name=${entry%%:*} pid=${entry#*:}
  # Not kill -0: a zombie nobody has reaped yet answers it, but no longer runs cairn.
  for _ in $(seq 1 100); do running_pid "$name" >/dev/null || break; sleep 0.1; done
  if running_pid "$name" >/dev/null; then
    echo "$name (pid $pid) did not stop within 10 s; killing it"
    kill -KILL "$pid"
  fi
  rm -f "$run/$name.pid"
  echo "$name stopped (pid $pid)"
done
