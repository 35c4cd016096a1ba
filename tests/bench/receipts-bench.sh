#!/usr/bin/env bash
# Receipt ingestion with re-verification, and the allowlist build at 10,000
# images (issue 16; docs/benchmarks.md), on SQLite and PostgreSQL:
#   1. the registry (release build, --pin-time) with Acme's root and
#      intermediate; every receipt carries real evidence (the corpus's
#      P-256 detached signature over fw.bin) that the registry re-verifies
#      with the inspector core before storing it;
#   2. POST /receipts/batch, 500 receipts per request, 4 clients, for
#      DURATION seconds: receipts/s, then every row counted (none lost) and
#      every registry verdict checked (all accept);
#   3. POST /receipts one by one, 8 clients: receipts/s and p99;
#   4. a product whose stage holds 10,000 registry-verified images (distinct
#      versions of the component): the JSON allowlist build + sign + record,
#      and a floor change (brick check over the same allowlist);
#   5. for reference, from the same run: `openssl speed ecdsap256` (one
#      P-256 verify per receipt is the crypto floor of re-verification).
# Usage: tests/bench/receipts-bench.sh   (DURATION=10 by default)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${DURATION:-10}
PG_ADMIN=${TOLLGATE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
PG_BASE=${PG_ADMIN%/*}
cd "$ROOT"
cargo build --release -q -p registry --bin tollgate-registry
BIN=$ROOT/target/release/tollgate-registry
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
F=$ROOT/tests/fixtures/cms
AT=2026-10-01T00:00:00Z

echo "machine: $(nproc) cores; clients run on the same machine as the server"
floor=$(openssl speed -seconds 3 -multi "$(nproc)" ecdsap256 2>/dev/null | awk '/256 bits ecdsa \(nistp256\)/{print $NF}' | tail -1)
echo "openssl speed ecdsap256 on all cores: $floor verifies/s (the crypto floor: one verify per receipt)"

cat > "$WORK/client.py" <<'PY'
import base64, hashlib, http.client, json, sys, threading, time, urllib.parse
mode, base, token, duration, clients = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
F = sys.argv[6]
blob = open(F + "/blobs/fw.bin", "rb").read()
sig = base64.b64encode(open(F + "/sigs/p256-detached.der", "rb").read()).decode()
def receipt(version, lot):
    return {"station": "bench", "lot": lot, "bundle_serial": 1, "signature": sig, "report": {
        "report_version": 1, "verdict": "accept", "summary": "accepted", "vendor": "acme",
        "component": "acme-wifi-fw", "version": version,
        "blob": {"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)},
        "signature": {"kind": "cms"}, "verification_time": "2026-10-01T00:00:00Z", "checks": [], "signers": []}}
u = urllib.parse.urlparse(base)
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
if mode == "images":
    # 10,000 distinct images: versions 1.0.0 .. 1.9999.0, 500 per request.
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    for start in range(0, 10000, 500):
        body = json.dumps({"receipts": [receipt(f"1.{i}.0", "IMAGES") for i in range(start, start + 500)]})
        c.request("POST", "/api/v1/receipts/batch", body, headers)
        r = c.getresponse(); r.read()
        assert r.status == 201, r.status
    sys.exit(0)
batch = mode == "batch"
body = json.dumps({"receipts": [receipt("1.5.0", "BENCH") for _ in range(500)]} if batch else receipt("1.5.0", "BENCH"))
path = "/api/v1/receipts/batch" if batch else "/api/v1/receipts"
lat, sent, errors, lock = [], [0], [0], threading.Lock()
stop = time.time() + duration
def work():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    while time.time() < stop:
        t = time.time()
        c.request("POST", path, body, headers)
        r = c.getresponse(); r.read()
        with lock:
            lat.append(time.time() - t)
            if r.status == 201: sent[0] += 500 if batch else 1
            else: errors[0] += 1
threads = [threading.Thread(target=work) for _ in range(clients)]
t0 = time.time()
for t in threads: t.start()
for t in threads: t.join()
el = time.time() - t0
lat.sort()
p99 = lat[int(len(lat) * 0.99) - 1] if lat else 0
print(f"{sent[0] / el:.0f} receipts/s ({len(lat)} requests, p99 {p99 * 1000:.0f} ms, {errors[0]} failed); sent {sent[0]}")
PY

ms() { python3 -c 'import time; print(int(time.time()*1000))'; }
for backend in sqlite postgresql; do
  dir=$WORK/$backend; mkdir -p "$dir"
  if [[ $backend == sqlite ]]; then url=$dir/tollgate.db; else
    db=tollgate_rcpt_$$; psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
    url=$PG_BASE/$db; fi
  port=$((20500 + RANDOM % 400))
  DATABASE_URL=$url "$BIN" serve --bind 127.0.0.1:$port --pin-time $AT --data-dir "$dir" > "$dir/out.txt" 2>"$dir/err.txt" &
  pid=$!
  for _ in $(seq 50); do grep -q listening "$dir/out.txt" 2>/dev/null && break; sleep 0.2; done
  token=$(grep '^tg_' "$dir/out.txt")
  base=http://127.0.0.1:$port
  api=$base/api/v1
  H=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")
  curl -sf "${H[@]}" -d '{"id":"acme","name":"Acme Chips"}' $api/vendors >/dev/null
  for c in "acme-root.pem anchor" "acme-int.pem intermediate"; do
    set -- $c
    jq -n --rawfile pem "$F/certs/$1" --arg role "$2" '{role: $role, pem: $pem}' | curl -sf "${H[@]}" -d @- $api/vendors/acme/certificates >/dev/null
  done
  curl -sf "${H[@]}" -d '{"name":"acme-wifi-fw"}' $api/vendors/acme/components >/dev/null
  echo; echo "== $backend"
  echo -n "POST /receipts/batch (500 per request, 4 clients, ${DURATION}s): "
  python3 "$WORK/client.py" batch "$base" "$token" "$DURATION" 4 "$F"
  echo -n "POST /receipts (one per request, 8 clients, ${DURATION}s): "
  python3 "$WORK/client.py" single "$base" "$token" "$DURATION" 8 "$F"
  if [[ $backend == sqlite ]]; then
    q() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$url" "$1"; }
  else
    q() { psql "$url" -qtAc "$1"; }
  fi
  echo "stored: $(q "select count(*) from receipts where lot='BENCH'") receipts, registry accepted: $(q "select count(*) from receipts where lot='BENCH' and registry_verdict='accept'")"

  python3 "$WORK/client.py" images "$base" "$token" 0 1 "$F"
  curl -sf "${H[@]}" -d '{"id":"gw","name":"GW","stages":[{"name":"boot","algorithms":["ecdsa-p256","ecdsa-p384"],"components":["acme-wifi-fw"]}]}' $api/products >/dev/null
  t0=$(ms); n=$(curl -sf "${H[@]}" "$api/products/gw/allowlist" | jq '.stages[0].images | length'); t1=$(ms)
  echo "allowlist build (JSON, signed, recorded) with $n images: $((t1 - t0)) ms"
  t0=$(ms); code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "${H[@]}" -H 'If-Match: "1"' -d '{"min_version":"1.100.0"}' $api/components/acme-wifi-fw/floor); t1=$(ms)
  echo "floor change over $n images (brick check): $((t1 - t0)) ms (HTTP $code)"
  kill $pid; wait $pid 2>/dev/null || true
  [[ $backend == postgresql ]] && psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
done
