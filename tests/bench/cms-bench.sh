#!/usr/bin/env bash
# Benchmarks for issue 3 (docs/benchmarks.md), each side by side with its
# peer in the same run:
#   1. one 1 GiB detached-signed blob: `tollgate-inspect verify` against
#      `openssl dgst -sha256` on the same file (wall time, peak RSS);
#   2. a lot of 2,000 signed 64 KiB blobs: `tollgate-inspect verify-lot`
#      against a shell loop of `openssl cms -verify`.
# Usage: tests/bench/cms-bench.sh [WORKDIR]   (default: bench-work/, ~1.2 GiB)
# Environment: BIG_MIB (default 1024), LOT (default 2000), RUNS (default 3).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${1:-$ROOT/bench-work}
BIG_MIB=${BIG_MIB:-1024}
LOT=${LOT:-2000}
RUNS=${RUNS:-3}
FX=$ROOT/tests/fixtures/cms
AT=2026-10-01T00:00:00Z
mkdir -p "$WORK/lot"
cd "$ROOT" && cargo build --release -q -p inspector
BIN=$ROOT/target/release/tollgate-inspect
SIGNER=(-signer "$FX/certs/acme-signer-p256.pem" -inkey "$FX/keys/acme-signer-p256.key" -certfile "$FX/certs/acme-int.pem" -md sha256)

# measure LABEL CMD... -> prints "LABEL wall_s max_rss_kib" for the best of RUNS
measure() {
  local label=$1; shift
  local best_wall="" best_rss=""
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>&1 || { echo "$label: the command failed (exit $?); nothing to compare" >&2; exit 1; }
    read -r wall rss < "$WORK/time.txt"
    if [[ -z $best_wall ]] || awk "BEGIN{exit !($wall < $best_wall)}"; then best_wall=$wall; best_rss=$rss; fi
  done
  printf '%-34s wall %7.2f s   peak RSS %8.1f MiB\n' "$label" "$best_wall" "$(awk "BEGIN{print $best_rss/1024}")"
  echo "$best_wall" > "$WORK/last_wall"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "tools: $(openssl version), $($BIN --version)"

# --- 1. one big blob -------------------------------------------------------
BIG=$WORK/big.bin
# Data is reused between runs; signatures are redone when the fixture
# signer changed (gen.sh makes new keys).
STAMP=$(sha256sum "$FX/certs/acme-signer-p256.pem" | cut -c1-16)
if [[ ! -f $BIG || $(stat -c %s "$BIG") -ne $((BIG_MIB * 1024 * 1024)) ]]; then
  head -c "$((BIG_MIB * 1024 * 1024))" /dev/urandom > "$BIG"
fi
if [[ ! -f $BIG.p7s || $(cat "$WORK/stamp" 2>/dev/null) != "$STAMP" ]]; then
  openssl cms -sign -binary -in "$BIG" "${SIGNER[@]}" -outform DER -out "$BIG.p7s"
  rm -f "$WORK/lot/manifest.csv"
  echo "$STAMP" > "$WORK/stamp"
fi
cat "$BIG" > /dev/null   # warm the page cache for both tools
echo
echo "== 1 blob of $BIG_MIB MiB, detached CMS (ECDSA P-256, SHA-256), best of $RUNS"
measure "openssl dgst -sha256" openssl dgst -sha256 "$BIG"
OSSL=$(cat "$WORK/last_wall")
measure "tollgate-inspect verify" "$BIN" verify --trust "$FX/trust.json" --vendor acme \
  --component acme-wifi-fw --version 1.5.0 --at "$AT" "$BIG"
TG=$(cat "$WORK/last_wall")
"$BIN" verify --trust "$FX/trust.json" --vendor acme --component acme-wifi-fw --version 1.5.0 --at "$AT" "$BIG" | head -2
echo "ratio tollgate/openssl-dgst: $(awk "BEGIN{printf \"%.3f\", $TG/$OSSL}") (target <= 1.10)"

# --- 2. a lot of small blobs -----------------------------------------------
if [[ ! -f $WORK/lot/manifest.csv || $(wc -l < "$WORK/lot/manifest.csv") -ne $((LOT + 1)) ]]; then
  echo "blob,signature,vendor,component,version" > "$WORK/lot/manifest.csv"
  for i in $(seq -w 1 "$LOT"); do
    head -c 65536 /dev/urandom > "$WORK/lot/b$i.bin"
    openssl cms -sign -binary -in "$WORK/lot/b$i.bin" "${SIGNER[@]}" -outform DER -out "$WORK/lot/b$i.bin.p7s"
    echo "b$i.bin,b$i.bin.p7s,acme,acme-wifi-fw,1.5.0" >> "$WORK/lot/manifest.csv"
  done
fi
cat > "$WORK/openssl-loop.sh" <<LOOP
#!/usr/bin/env bash
cd "$WORK/lot"
for f in b*.bin; do
  openssl cms -verify -binary -inform DER -in "\$f.p7s" -content "\$f" -CAfile "$FX/certs/acme-root.pem" \
    -certfile "$FX/certs/acme-int.pem" -purpose any -attime $(date -d "$AT" +%s) -out /dev/null 2>/dev/null || exit 1
done
LOOP
chmod +x "$WORK/openssl-loop.sh"
cat "$WORK"/lot/* > /dev/null
echo
echo "== lot of $LOT blobs of 64 KiB, best of $RUNS"
measure "shell loop of openssl cms -verify" "$WORK/openssl-loop.sh"
OSSL=$(cat "$WORK/last_wall")
measure "tollgate-inspect verify-lot" "$BIN" verify-lot --trust "$FX/trust.json" --at "$AT" \
  --report "$WORK/lot-report.json" "$WORK/lot/manifest.csv"
TG=$(cat "$WORK/last_wall")
grep -m1 '"accepted"' "$WORK/lot-report.json"
echo "throughput: openssl loop $(awk "BEGIN{printf \"%.0f\", $LOT/$OSSL}") blobs/s, tollgate $(awk "BEGIN{printf \"%.0f\", $LOT/$TG}") blobs/s, speed-up $(awk "BEGIN{printf \"%.1f\", $OSSL/$TG}")x (target >= 20x)"
