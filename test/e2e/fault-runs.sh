#!/usr/bin/env bash
# The long form of a real-process fault test: RUNS runs (default 100), each with a fresh seed and
# FAULT_DURATION_MS of load (default 60000), one after the other. SUITE chooses the test:
#   partition (default)  partition-faults.test.js: proxies on every peer link, partitions, kills,
#                        pauses, membership changes, fenced locks;
#   process              cluster-faults.test.js: SIGKILL and SIGSTOP, over FAULT_TRANSPORT (default
#                        tcp; tcp,nats adds the NATS run, which needs nats-server).
# Each run starts its own processes and stops them by PID. Every run appends one JSON line (the
# reliability report reads it) to $CAIRN_RELIABILITY_RECORD, else $RECORD, else OUT_DIR/records.jsonl,
# and prints a summary line; a run's full output stays in OUT_DIR (default /tmp/<suite>-fault-runs),
# a failing run's evidence in /tmp/fault-findings, and its seed replays it:
#
#   test/e2e/fault-runs.sh                                             # 100 partition runs of 60 s
#   SUITE=process RUNS=5 FAULT_DURATION_MS=30000 test/e2e/fault-runs.sh
#   cd test && FAULT_SEED=1234 FAULT_DURATION_MS=60000 npx mocha --no-config --timeout 600000 dist/e2e/partition-faults.test.js   # replay
#
# Needs `npx tsc -b test` (or npm run build) and /usr/bin/etcdctl. Commits nothing.
# The members run from this checkout's dist/: a build here while the runs go changes the code the
# next runs test. For long series, run from a clone of its own (git clone, npm install, npx tsc -b).
set -uo pipefail
cd "$(dirname "$0")/../.."
suite=${SUITE:-partition}
case $suite in
  # Only the fault run itself (not the proxy check): its record is the one appended.
  partition) test_file=dist/e2e/partition-faults.test.js grep_args=(-g 'under partitions') ;;
  process) test_file=dist/e2e/cluster-faults.test.js grep_args=() ;;
  *) echo "SUITE must be partition or process, not $suite" >&2; exit 2 ;;
esac
export FAULT_TRANSPORT=${FAULT_TRANSPORT:-tcp}
runs=${RUNS:-100}
duration=${FAULT_DURATION_MS:-60000}
out_dir=${OUT_DIR:-/tmp/$suite-fault-runs}
record=${CAIRN_RELIABILITY_RECORD:-${RECORD:-$out_dir/records.jsonl}}
[ -f "test/$test_file" ] || { echo "test/$test_file is missing: run npx tsc -b test" >&2; exit 1; }
mkdir -p "$out_dir" "$(dirname "$record")"
record=$(realpath "$record")

passed=0
for i in $(seq 1 "$runs"); do
  seed=$(((RANDOM << 15 | RANDOM) + 1))
  log="$out_dir/run-$i-seed-$seed.log"
  started=$(date +%s)
  if (cd test && FAULT_SEED=$seed FAULT_DURATION_MS=$duration CAIRN_RELIABILITY_RECORD=$record \
    npx mocha --no-config --reporter spec --timeout $((duration + 300000)) "${grep_args[@]}" "$test_file") >"$log" 2>&1; then
    verdict=passed
    passed=$((passed + 1))
  else
    verdict=FAILED
  fi
  # "seed S: N ops ok (W acknowledged writes), I indeterminate, ...; F faults injected {...}; M membership changes"
  ops=$(grep -Eo '[0-9]+ ops ok \([0-9]+ acknowledged writes\), [0-9]+ indeterminate' "$log" | head -n 1)
  faults=$(grep -Eo '[0-9]+ faults injected( \{[^}]*\})?' "$log" | head -n 1)
  changes=$(grep -Eo '[0-9]+ membership changes' "$log" | head -n 1)
  locks=$(grep -Eo 'locks: [0-9]+ acquisitions' "$log" | head -n 1)
  evidence=$(grep -Eo 'evidence in [^ ]+' "$log" | head -n 1)
  echo "$suite run $i/$runs seed $seed: $verdict in $(($(date +%s) - started)) s (${ops:-no summary}; ${faults:-no faults}; ${locks:-no locks}; ${changes:-no membership changes})${evidence:+; $evidence}"
  [ "$verdict" = passed ] || tail -n 30 "$log" >&2
done
echo "$passed of $runs runs passed; records in $record, logs in $out_dir"
[ "$passed" -eq "$runs" ]
