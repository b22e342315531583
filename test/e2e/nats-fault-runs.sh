#!/usr/bin/env bash
# The long form of the linearizability fault test over NATS: RUNS runs (default 20) of
# cluster-faults.test.js with FAULT_TRANSPORT=nats, each with a fresh seed and FAULT_DURATION_MS
# of load (default 30000), one after the other. Every run starts its own nats-server and three
# cairn members and stops them by PID. A table of the runs (seed, verdict, operations, faults,
# nats-server restarts) goes to OUT (default docs/nats-fault-runs.md); a failing run's evidence
# stays in /tmp/fault-findings, and its seed replays it:
#
#   test/e2e/nats-fault-runs.sh                       # 20 runs of 30 s
#   RUNS=5 FAULT_DURATION_MS=60000 test/e2e/nats-fault-runs.sh
#   cd test && FAULT_SEED=1234 FAULT_TRANSPORT=nats npx mocha --no-config --timeout 300000 dist/e2e/cluster-faults.test.js   # replay
#
# Needs `npx tsc -b test` (or npm run build), /usr/bin/etcdctl and /usr/sbin/nats-server.
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-20}
duration=${FAULT_DURATION_MS:-30000}
out=${OUT:-docs/nats-fault-runs.md}
[ -f test/dist/e2e/cluster-faults.test.js ] || { echo "test/dist/e2e/cluster-faults.test.js is missing: run npx tsc -b test" >&2; exit 1; }

rows=()
passed=0
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
for i in $(seq 1 "$runs"); do
  seed=$(((RANDOM << 15 | RANDOM) + 1))
  log="$logs/run-$i.log"
  started=$(date +%s)
  if (cd test && FAULT_SEED=$seed FAULT_TRANSPORT=nats FAULT_DURATION_MS=$duration \
    npx mocha --no-config --reporter spec --timeout $((duration + 180000)) dist/e2e/cluster-faults.test.js) >"$log" 2>&1; then
    verdict=passed
    passed=$((passed + 1))
  else
    verdict=FAILED
  fi
  # "seed S: N ops ok (W acknowledged writes), I indeterminate, ...; F faults injected; checker ..."
  summary=$(grep -Eo '[0-9]+ ops ok \([0-9]+ acknowledged writes\), [0-9]+ indeterminate' "$log" | head -n 1)
  injected=$(grep -Eo '[0-9]+ faults injected' "$log" | head -n 1 | grep -Eo '^[0-9]+')
  restarts=$(grep -c 'SIGKILL the nats-server' "$log")
  evidence=$(grep -Eo 'evidence in [^ ]+' "$log" | head -n 1)
  rows+=("| $i | $seed | $verdict | ${summary:-n/a} | ${injected:-0} | $restarts | $(($(date +%s) - started)) s | ${evidence#evidence in } |")
  echo "run $i/$runs seed $seed: $verdict (${summary:-no summary}; ${injected:-0} faults, $restarts nats-server restarts)" >&2
  [ "$verdict" = passed ] || tail -n 40 "$log" >&2
done

{
  echo "# The fault test over NATS: $passed of $runs runs passed"
  echo
  echo "\`test/e2e/nats-fault-runs.sh\` on $(date -u +%Y-%m-%d) at cairn $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- core plugins || echo '+changes'):"
  echo "$runs runs of \`cluster-faults.test.js\` with \`FAULT_TRANSPORT=nats\`, ${duration} ms of load each (6 clients:"
  echo "linearizable reads, puts, CAS txns on 3 keys) against 3 cairn members that reach each other only through"
  echo "one nats-server, while the nemesis SIGKILLs and restarts or SIGSTOPs and resumes a member or the leader, and"
  echo "SIGKILLs and restarts the nats-server itself. Every history was checked for linearizability."
  echo "Machine: $(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| run | seed | verdict | operations | faults | nats-server restarts | time | evidence |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Replay a run: \`cd test && FAULT_SEED=<seed> FAULT_TRANSPORT=nats FAULT_DURATION_MS=$duration npx mocha --no-config --timeout 300000 dist/e2e/cluster-faults.test.js\`."
} >"$out"
echo "$passed of $runs runs passed; table in $out"
[ "$passed" -eq "$runs" ]
