#!/usr/bin/env bash
# Registry benchmarks (issue 4, docs/benchmarks.md), on SQLite and PostgreSQL:
#   1. build + sign the trust bundle with 1,000 vendors / 10,000 certificates;
#   2. GET /api/v1/trust-bundle with If-None-Match (ETag hit) under wrk;
#   3. POST /api/v1/receipts under wrk, then count the rows (none lost). These
#      receipts carry no evidence (recorded as station-asserted), so this is
#      the intake rate without re-verification; the re-verifying ingestion
#      benchmark of issue 16 is not written yet.
# Needs wrk (apt-get install wrk) and PostgreSQL at 127.0.0.1:5432.
# Usage: tests/bench/registry-bench.sh   (DURATION=10s CONNECTIONS=32 by default)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
PG_ADMIN=${TOLLGATE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
PG_BASE=${PG_ADMIN%/*}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 2; }
cd "$ROOT"
cargo build --release -q -p registry --bin tollgate-registry --example bench-bundle
BIN=$ROOT/target/release/tollgate-registry
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cat > "$WORK/receipt.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"station":"bench","lot":"BENCH","bundle_serial":1,"report":{"report_version":1,"verdict":"accept","summary":"accepted","vendor":"vendor-0001","component":"vendor-0001-fw","version":"1.2.3","blob":{"sha256":"c8fe3a0bc1e421531329540a60111a8579e4112ca8b6d0331769c2778818d499","size":65536},"signature":{"kind":"cms","encoding":"der","attached":false},"verification_time":"2026-10-01T00:00:00Z","checks":[{"id":"format","outcome":"pass","reason":"CMS SignedData"}],"signers":[]}}]]
LUA

echo "machine: $(nproc) cores; wrk -t2 -c$CONNECTIONS -d$DURATION on the same machine as the server"
for backend in sqlite postgresql; do
  dir=$WORK/$backend; mkdir -p "$dir"
  if [[ $backend == sqlite ]]; then
    url=$dir/tollgate.db
  else
    db=tollgate_bench_$$
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
    url=$PG_BASE/$db
  fi
  echo; echo "== $backend"
  "$ROOT/target/release/examples/bench-bundle" "$url" 1000 10 2>/dev/null
  port=$((18500 + RANDOM % 1000))
  DATABASE_URL=$url "$BIN" serve --bind 127.0.0.1:$port --data-dir "$dir" > "$dir/out.txt" 2>/dev/null &
  pid=$!
  for _ in $(seq 50); do grep -q listening "$dir/out.txt" 2>/dev/null && break; sleep 0.2; done
  token=$(grep '^tg_' "$dir/out.txt")
  base=http://127.0.0.1:$port/api/v1
  etag=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $token" $base/trust-bundle | awk 'tolower($1)=="etag:"{print $2}' | tr -d '\r')
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H "If-None-Match: $etag" $base/trust-bundle)
  echo "ETag $etag answers $code"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $token" -H "If-None-Match: $etag" \
    $base/trust-bundle > "$dir/bundle.txt"
  echo "GET trust-bundle (ETag hit): $(awk '/Requests\/sec/{print $2}' "$dir/bundle.txt") req/s, p99 $(awk '$1=="99%"{print $2}' "$dir/bundle.txt"), non-2xx/3xx: $(awk '/Non-2xx/{print $5}' "$dir/bundle.txt" | grep . || echo 0)"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/receipt.lua" -H "Authorization: Bearer $token" \
    $base/receipts > "$dir/receipts.txt"
  sent=$(awk '/requests in/{print $1}' "$dir/receipts.txt")
  errors=$(awk '/Non-2xx/{print $5}' "$dir/receipts.txt" | grep . || echo 0)
  if [[ $backend == sqlite ]]; then
    stored=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from receipts where lot='BENCH'\").fetchone()[0])" "$url")
  else
    stored=$(psql "$url" -qtAc "select count(*) from receipts where lot='BENCH'")
  fi
  echo "POST receipts: $(awk '/Requests\/sec/{print $2}' "$dir/receipts.txt") req/s, p99 $(awk '$1=="99%"{print $2}' "$dir/receipts.txt"); sent $sent, non-2xx $errors, stored $stored"
  kill $pid; wait $pid 2>/dev/null || true
  [[ $backend == postgresql ]] && psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
done
