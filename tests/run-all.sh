#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with the Rust toolchain:
# installs what is missing, makes sure PostgreSQL answers, then runs
# formatting, lints and every test (SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
need=()
# ring (rustls-webpki) and the bundled SQLite compile C: a C compiler.
command -v cc >/dev/null || need+=(gcc libc6-dev)
# diesel's PostgreSQL backend links libpq.
[[ -e /usr/include/postgresql/libpq-fe.h ]] || need+=(libpq-dev)
command -v psql >/dev/null || need+=(postgresql-client)
# The outage test runs its own PostgreSQL server (initdb, pg_ctl).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# The browser tests: Debian's Chromium, driven by playwright-core from npm.
[[ -x /usr/bin/chromium ]] || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# Independent readers of the allowlist exports: efitools, gcc, openssl.
command -v sig-list-to-certs >/dev/null || need+=(efitools)
command -v openssl >/dev/null || need+=(openssl)
if ((${#need[@]})); then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

# The JSON allowlist is validated against its schema by Python's jsonschema;
# schemathesis fuzzes the API from its OpenAPI document.
python3 -c 'import jsonschema' 2>/dev/null || python3 -m pip install --quiet jsonschema
# DSSE envelopes (station receipts, registry attestations) are verified by
# securesystemslib, the library in-toto uses.
python3 -c 'import securesystemslib.dsse, cryptography' 2>/dev/null || python3 -m pip install --quiet securesystemslib cryptography
# Release SBOMs are validated by CycloneDX's own library (strict JSON schema).
python3 -c 'import cyclonedx.validation.json, jsonschema' 2>/dev/null || python3 -m pip install --quiet 'cyclonedx-python-lib[json-validation]'
command -v st >/dev/null || python3 -m pip install --quiet schemathesis
command -v curl >/dev/null || { $SUDO apt-get update -qq; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq curl; }

# The tests need PostgreSQL at 127.0.0.1:5432 (or TOLLGATE_TEST_PG_URL).
PG_URL=${TOLLGATE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
if ! psql "$PG_URL" -qtAc 'select 1' >/dev/null 2>&1; then
  if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1; then
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    sleep 2
  fi
  psql "$PG_URL" -qtAc 'select 1' >/dev/null || { echo "PostgreSQL is not reachable at $PG_URL" >&2; exit 1; }
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The x509-limbo cases read ../shared/data/x509-limbo beside the checkout;
# here a missing copy fails the run instead of skipping the cases.
TOLLGATE_REQUIRE_LIMBO=1 cargo test --workspace --locked

# Pages in a real browser (uses the debug binaries the tests just built).
npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
cargo build --workspace --locked --bins
node tests/browser/e2e.mjs

# The API against its own OpenAPI document, by an independent fuzzer.
bash tests/schemathesis.sh
