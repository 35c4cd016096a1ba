#!/usr/bin/env bash
# The OpenAPI document tells the truth: schemathesis (an independent API
# fuzzer driven by /api/openapi.json) runs every phase (examples, coverage,
# fuzzing, stateful) against a live registry on a fresh SQLite database and
# checks that no request gives a server error, that every status answered is
# documented for its operation, and that every response matches its schema.
# Fixed seed, bounded examples: the same requests every run.
#
#   bash tests/schemathesis.sh            (uses target/debug/tollgate-registry)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${REGISTRY_BIN:-target/debug/tollgate-registry}
SEED=${ST_SEED:-1}
EXAMPLES=${ST_MAX_EXAMPLES:-25}
dir=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
"$BIN" serve --bind "127.0.0.1:$port" --data-dir "$dir" --database-url "$dir/st.db" >"$dir/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 50); do grep -q "listening on" "$dir/serve.log" 2>/dev/null && break; sleep 0.2; done
token=$(grep -A1 "admin token" "$dir/serve.log" | tail -1)
[[ $token == tg_* ]] || { echo "no admin token from the registry" >&2; cat "$dir/serve.log" >&2; exit 1; }
url="http://127.0.0.1:$port"
# Something for the generated requests to find (a vendor, a component).
curl -sf -XPOST -H "Authorization: Bearer $token" -H 'content-type: application/json' \
  "$url/api/v1/vendors" -d '{"id":"acme","name":"Acme Chips"}' >/dev/null
curl -sf -XPOST -H "Authorization: Bearer $token" -H 'content-type: application/json' \
  "$url/api/v1/vendors/acme/components" -d '{"name":"acme-wifi-fw","min_version":"1.5.0"}' >/dev/null
# A second admin token: the stateful phase may revoke the first one.
spare=$(curl -sf -XPOST -H "Authorization: Bearer $token" -H 'content-type: application/json' \
  "$url/api/v1/tokens" -d '{"name":"schemathesis-spare","role":"admin"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
[[ $spare == tg_* ]]
run() {
  st run "$url/api/openapi.json" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing,stateful \
    --seed "$SEED" --max-examples "$EXAMPLES" -w 1 \
    --generation-database none --no-color "$@"
}
# Every operation but token revocation with the first token; then token
# revocation alone with the spare one (so revoking the first cannot turn
# the rest of the run into a stream of 401s).
run -H "Authorization: Bearer $token" --exclude-path '/api/v1/tokens/{id}/revoke'
run -H "Authorization: Bearer $spare" --include-path '/api/v1/tokens/{id}/revoke'
