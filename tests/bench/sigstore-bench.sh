#!/usr/bin/env bash
# Issue 5 benchmark (docs/benchmarks.md): verify 500 Sigstore bundles with
# `tollgate-inspect verify-lot` and with the sigstore Python client
# (`sigstore verify identity --offline`, one process for all 500 inputs,
# same trusted root), side by side in one run.
# Needs: pip install sigstore   (4.x)
# Usage: tests/bench/sigstore-bench.sh [N]   (default 500)
#        BASELINE_BIN=/path/to/older/tollgate-inspect tests/bench/sigstore-bench.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-500}
RUNS=${RUNS:-3}
F=$ROOT/tests/fixtures/sigstore
python3 -m sigstore --version >/dev/null 2>&1 || { echo "pip install sigstore first" >&2; exit 2; }
cd "$ROOT" && cargo build --release -q -p inspector
BIN=$ROOT/target/release/tollgate-inspect
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The same trusted root for both: Python takes it inside a client trust config.
python3 - "$WORK/trust-config.json" <<PY
import json, glob, sys
root = json.load(open("$F/trusted_root-public-good.json"))
sc = json.load(open(glob.glob("$HOME/.cargo/registry/src/*/sigstore-trust-root-0.15.*/repository/signing_config.json")[0]))
json.dump({"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json", "trustedRoot": root, "signingConfig": sc}, open(sys.argv[1], "w"))
PY
python3 - "$WORK/trust.json" <<PY
import json, sys
d = json.load(open("$F/trust.json"))
d["sigstore_trusted_roots"] = [{"name": "public-good", "trusted_root": "$F/trusted_root-public-good.json"}]
d["vendors"] = [v for v in d["vendors"] if v["id"] == "vollprecht"]
json.dump(d, open(sys.argv[1], "w"))
PY
# N real (keyless, cosign v3, v0.3, RFC 3161 + Rekor) bundles next to their blobs.
echo "blob,signature,vendor,component,version" > "$WORK/lot.csv"
for i in $(seq -w 1 "$N"); do
  cp "$F/cosign-v3-blob.txt" "$WORK/blob-$i.txt"
  cp "$F/cosign-v3-blob.sigstore.json" "$WORK/blob-$i.txt.sigstore.json"
  echo "blob-$i.txt,blob-$i.txt.sigstore.json,vollprecht,sensor-fw,1.2.0" >> "$WORK/lot.csv"
done

best() { # label cmd...
  local label=$1; shift; local b=""
  for _ in $(seq "$RUNS"); do
    local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "$label failed" >&2; "$@" | tail -3; exit 1; }; e=$(date +%s.%N)
    local t; t=$(awk "BEGIN{print $e-$s}")
    if [[ -z $b ]] || awk "BEGIN{exit !($t < $b)}"; then b=$t; fi
  done
  printf '%-44s %7.2f s  %8.0f bundles/s\n' "$label" "$b" "$(awk "BEGIN{print $N/$b}")"
  echo "$b" > "$WORK/last"
}
echo "machine: $(nproc) cores; $(python3 -m sigstore --version); $($BIN --version); best of $RUNS"
(cd "$WORK" && best "sigstore-python verify identity --offline" python3 -m sigstore --trust-config trust-config.json verify identity --offline \
  --cert-identity w.vollprecht@gmail.com --cert-oidc-issuer https://github.com/login/oauth blob-*.txt)
PY=$(cat "$WORK/last")
if [[ -n ${BASELINE_BIN:-} ]]; then # an older build, to measure a change in the same run
  best "baseline verify-lot (all $(nproc) cores)" "$BASELINE_BIN" verify-lot --trust "$WORK/trust.json" "$WORK/lot.csv"
fi
best "tollgate-inspect verify-lot --jobs 1" "$BIN" verify-lot --jobs 1 --trust "$WORK/trust.json" "$WORK/lot.csv"
TG1=$(cat "$WORK/last")
best "tollgate-inspect verify-lot (all $(nproc) cores)" "$BIN" verify-lot --trust "$WORK/trust.json" "$WORK/lot.csv"
TG=$(cat "$WORK/last")
"$BIN" verify-lot --trust "$WORK/trust.json" "$WORK/lot.csv" | head -1
echo "speed-up, one core: $(awk "BEGIN{printf \"%.1f\", $PY/$TG1}")x"
echo "speed-up: $(awk "BEGIN{printf \"%.1f\", $PY/$TG}")x (target >= 10x)"
