#!/usr/bin/env bash
# Memory of one member under 10,000 idle client connections and 100,000 watchers, and what it does
# with slowloris clients: Cairn, then a real etcd 3.4, on the same machine (each started and stopped
# by PID by the script's node process). Writes docs/hostile-inputs.md. Needs `npx tsc -b test`;
# etcd's column needs /usr/bin/etcd.
#
#   test/bench/hostile-rss.sh                                  # 10,000 connections, 100 streams × 1000 watches
#   CONNECTIONS=2000 STREAMS=20 test/bench/hostile-rss.sh      # a short form
#   OUT=/tmp/x.md test/bench/hostile-rss.sh                    # somewhere else than docs/
set -euo pipefail
cd "$(dirname "$0")/../.."

connections=${CONNECTIONS:-10000}
streams=${STREAMS:-100}
per_stream=${PER_STREAM:-1000}
out=${OUT:-docs/hostile-inputs.md}

[ -f test/dist/bench/hostile-rss.js ] || { echo "test/dist/bench/hostile-rss.js is missing: run npx tsc -b test" >&2; exit 1; }
# The bench process holds one descriptor per connection and the member (its child) one more: raise
# the soft limit to the hard one for both, and use fewer connections if even that is too low.
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || ulimit -n "$hard"
limit=$(ulimit -n)
note_limit=""
if [ "$limit" != unlimited ] && [ "$connections" -gt $((limit - 500)) ]; then
  connections=$((limit - 500))
  note_limit=" The file-descriptor limit here is $limit, so $connections connections were opened, not ${CONNECTIONS:-10000}."
fi
etcd_version=$([ -x /usr/bin/etcd ] && /usr/bin/etcd --version | sed -n 's/^etcd Version: //p' || echo 'not installed')
notes="etcd $etcd_version, cairn $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- core plugins || echo '+changes'), Node $(node --version); $(nproc) cores; open-file limit $limit.$note_limit"
node test/dist/bench/hostile-rss.js --connections "$connections" --streams "$streams" --per-stream "$per_stream" --out "$out" --notes "$notes"
