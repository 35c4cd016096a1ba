#!/usr/bin/env bash
# CRL scale (issue 12, item 5; docs/benchmarks.md), on SQLite and PostgreSQL:
#   1. import a 100,000-entry CRL (made here with OpenSSL and the corpus's
#      acme-int key, like the corpus CRLs in tests/fixtures/cms/gen.sh);
#   2. then time a floor change and a revocation (both run the brick check
#      over the product's allowlist);
#   3. while a floor change runs, post receipts and report the slowest one
#      and any failure ("database is locked" lost receipts before).
# Usage: tests/bench/crl-scale.sh   (N=100000 by default)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-100000}
PG_ADMIN=${TOLLGATE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
PG_BASE=${PG_ADMIN%/*}
cd "$ROOT"
cargo build --release -q -p registry --bin tollgate-registry
BIN=$ROOT/target/release/tollgate-registry
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
F=$ROOT/tests/fixtures/cms

# The CRL: N revoked serials, signed by acme-int.
mkdir -p "$WORK/ca"; echo 01 > "$WORK/ca/crlnumber"
python3 -c "
import sys
with open('$WORK/ca/index.txt','w') as f:
    for i in range(1, $N + 1):
        f.write(f'R\t361231000000Z\t260901120000Z,keyCompromise\t{0x10000000+i:X}\tunknown\t/CN=revoked-{i}\n')"
(cd "$F" && TSA_SERIAL_FILE=$WORK/tsaserial CA_DIR=$WORK/ca openssl ca -config openssl.cnf -name ca_section \
  -gencrl -keyfile keys/acme-int.key -cert certs/acme-int.pem -out "$WORK/big.crl.pem" 2>/dev/null)
echo "CRL: $N entries, $(wc -c < "$WORK/big.crl.pem") bytes PEM; machine: $(nproc) cores"

ms() { python3 -c 'import time; print(int(time.time()*1000))'; }
for backend in sqlite postgresql; do
  dir=$WORK/$backend; mkdir -p "$dir"
  if [[ $backend == sqlite ]]; then url=$dir/tollgate.db; else
    db=tollgate_crl_$$; psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
    url=$PG_BASE/$db; fi
  port=$((19500 + RANDOM % 400))
  DATABASE_URL=$url "$BIN" serve --bind 127.0.0.1:$port --data-dir "$dir" > "$dir/out.txt" 2>"$dir/err.txt" &
  for _ in $(seq 100); do grep -q listening "$dir/out.txt" 2>/dev/null && break; sleep 0.1; done
  T=$(grep -A1 "admin token" "$dir/out.txt" | tail -1); U=http://127.0.0.1:$port/api/v1
  post() { curl -s -o /dev/null -w '%{http_code}' -XPOST -H "Authorization: Bearer $T" -H 'content-type: application/json' "$U$1" -d "$2"; }
  put() { curl -s -o /dev/null -w '%{http_code}' -XPUT -H "Authorization: Bearer $T" -H 'content-type: application/json' -H "If-Match: \"$3\"" "$U$1" -d "$2"; }
  post /vendors '{"id":"acme","name":"Acme"}' >/dev/null
  for c in acme-root.pem:anchor acme-int.pem:intermediate; do
    jq -n --rawfile p "$F/certs/${c%%:*}" --arg r "${c##*:}" '{role:$r,pem:$p}' > "$WORK/c.json"
    post /vendors/acme/certificates "$(cat "$WORK/c.json")" >/dev/null
  done
  post /vendors/acme/components '{"name":"acme-wifi-fw","min_version":"1.0.0"}' >/dev/null
  post /products '{"id":"gw-100","name":"GW","stages":[{"name":"rom","algorithms":["ecdsa-p256"],"components":["acme-wifi-fw"]}]}' >/dev/null
  jq -n --rawfile p "$WORK/big.crl.pem" '{pem:$p}' > "$WORK/crl.json"
  t0=$(ms); code=$(curl -s -o "$dir/crl.out" -w '%{http_code}' -XPOST -H "Authorization: Bearer $T" -H 'content-type: application/json' "$U/revocations/crl" --data-binary @"$WORK/crl.json"); t1=$(ms)
  echo; echo "== $backend"
  echo "CRL import: HTTP $code in $((t1 - t0)) ms ($(cat "$dir/crl.out" | head -c 120))"
  # Receipts during a floor change: the slowest, and failures.
  ( for i in $(seq 200); do
      curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -XPOST -H "Authorization: Bearer $T" -H 'content-type: application/json' "$U/receipts" \
        -d "{\"station\":\"b\",\"lot\":\"L\",\"bundle_serial\":1,\"report\":{\"report_version\":1,\"verdict\":\"reject\",\"summary\":\"x\",\"vendor\":\"acme\",\"component\":\"c\",\"version\":\"1.0.0\",\"blob\":{\"sha256\":\"$(printf %064x $i)\",\"size\":1},\"signature\":{\"kind\":\"cms\"},\"verification_time\":\"2026-10-01T00:00:00Z\",\"checks\":[],\"signers\":[]}}"
    done > "$dir/receipts.txt" ) &
  rp=$!
  t0=$(ms); code=$(put /components/acme-wifi-fw/floor '{"min_version":"1.1.0","confirm_brick":true}' 1); t1=$(ms)
  echo "floor change: HTTP $code in $((t1 - t0)) ms"
  jq -n --rawfile p "$F/certs/acme-signer-p256.pem" '{pem:$p,reason:"keyCompromise",confirm_brick:true}' > "$WORK/rev.json"
  t0=$(ms); code=$(post /revocations "$(cat "$WORK/rev.json")"); t1=$(ms)
  echo "revocation: HTTP $code in $((t1 - t0)) ms"
  wait $rp
  awk '{ if ($1 != "201") bad++; if ($2 > max) max = $2 } END { printf "200 receipts posted meanwhile: %d failed, slowest %.2f s\n", bad, max }' "$dir/receipts.txt"
  kill %1 2>/dev/null || true; wait 2>/dev/null || true
done
