#!/usr/bin/env bash
# Runs the fault suites that write reliability records, collects the records in one file and
# generates docs/reliability.md from them:
#
#   1. the deterministic simulator over SIM_SEEDS seeds of a 3-member cluster (default 1000) and
#      SIM_SEEDS_5 seeds of a 5-member one (default 300);
#   2. the partition fault test's long form, RUNS runs (default 100): SUITE=partition test/e2e/fault-runs.sh;
#   3. the process fault test's long form, RUNS runs: SUITE=process test/e2e/fault-runs.sh.
#
# SUITES chooses among them (default "simulator partition process"); RECORDS is the record file
# (default /tmp/cairn-reliability/records.jsonl, emptied first unless APPEND=1). At the end RECORDS
# is copied to docs/reliability-runs.jsonl and docs/reliability.md generated from it, so that
# `npm run reliability:report` regenerates the same document; DOCS=0 leaves docs/ alone and writes
# the report next to RECORDS instead (RECORDS with .md for .jsonl).
#
#   npm run reliability:run
#   SUITES=simulator SIM_SEEDS=500 npm run reliability:run
#   SUITES=partition RUNS=5 FAULT_DURATION_MS=30000 RECORDS=/tmp/pf.jsonl npm run reliability:run
#
# Builds core and test first. Starts no process of its own besides the suites', which stop theirs by PID.
set -uo pipefail
cd "$(dirname "$0")/../.."
suites=${SUITES:-simulator partition process}
sim_seeds=${SIM_SEEDS:-1000}
sim_seeds_5=${SIM_SEEDS_5:-300}
runs=${RUNS:-100}
records=${RECORDS:-/tmp/cairn-reliability/records.jsonl}
mkdir -p "$(dirname "$records")"
[ "${APPEND:-0}" = 1 ] || : >"$records"
records=$(realpath "$records")
status=0

npx tsc -b core test || echo "warning: the build reported errors; running what was emitted" >&2
# Every suite's records name the commit under test ("+dirty" when the tree has uncommitted changes).
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit+dirty"
export CAIRN_RELIABILITY_COMMIT=$commit

for suite in $suites; do
  case $suite in
    simulator)
      echo "== simulator: $sim_seeds seeds of 3 members, $sim_seeds_5 of 5"
      node core/dist/src/testkit/simulator/cli.js --seeds "$sim_seeds" --members 3 --keep-going --record "$records" || status=1
      if [ "$sim_seeds_5" -gt 0 ]; then
        node core/dist/src/testkit/simulator/cli.js --seeds "$sim_seeds_5" --members 5 --keep-going --record "$records" || status=1
      fi
      ;;
    partition | process)
      echo "== $suite faults: $runs runs"
      SUITE=$suite RUNS=$runs RECORD=$records bash test/e2e/fault-runs.sh || status=1
      ;;
    *)
      echo "unknown suite '$suite' (simulator, partition, process)" >&2
      exit 2
      ;;
  esac
done

# Suites that do not record the commit themselves get the one this run built.
node -e '
  const fs = require("node:fs");
  const [file, commit] = process.argv.slice(1);
  const lines = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "");
  const stamped = lines.map((l) => { try { const r = JSON.parse(l); return JSON.stringify(r.commit ? r : { ...r, commit }); } catch { return l; } });
  fs.writeFileSync(file, stamped.map((l) => l + "\n").join(""));
' "$records" "$commit"

if [ "${DOCS:-1}" = 1 ]; then
  cp "$records" docs/reliability-runs.jsonl
  node test/dist/reliability/report.js || status=1
else
  node test/dist/reliability/report.js --records "$records" --out "${records%.jsonl}.md" || status=1
fi
echo "records in $records"
exit $status
