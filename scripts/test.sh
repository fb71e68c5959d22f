#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
#
#   formatting · route table current · clippy -D warnings · every test on SQLite ·
#   the PostgreSQL suite (store conformance + API tests) · the release binary driven by
#   SailPoint's Python SDK and schemathesis (tests/conformance/run.sh)
#
# PostgreSQL: GATEHOUSE_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres). Without a
# server the suite is skipped and says so; with CI=true a missing server fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# Installs a Debian package when a tool the suite needs is missing (fresh machines; needs root).
ensure() { # ensure COMMAND-CHECK PACKAGE
  if ! eval "$1" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "installing $2"
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    else
      echo "missing: $2 (install it, then run again)"; exit 1
    fi
  fi
}
started=$(date +%s)

step "cargo fmt --check"
cargo fmt --all -- --check

step "route table matches the specs"
python3 tools/gen_operations.py --check
if [ -d ../shared/specs ]; then
  for f in spec/sailpoint/*.json; do
    cmp -s "$f" "../shared/specs/$(basename "$f")" || { echo "$f differs from ../shared/specs: copy it and regenerate"; exit 1; }
  done
fi

step "demo tenant matches its generator"
python3 tools/gen_demo.py --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "tests on SQLite"
cargo test --workspace

step "PostgreSQL suite"
PG_URL=${GATEHOUSE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_host=$(sed -E 's#^[a-z]+://([^@/]*@)?([^:/]+).*#\2#' <<<"$PG_URL")
pg_port=$(sed -nE 's#^[a-z]+://([^@/]*@)?[^:/]+:([0-9]+).*#\2#p' <<<"$PG_URL")
if (exec 3<>"/dev/tcp/${pg_host}/${pg_port:-5432}") 2>/dev/null; then
  ensure "command -v pg_dump" postgresql-client   # the secret-canary test dumps its database
  GATEHOUSE_TEST_PG_URL=$PG_URL cargo test -p gatehouse-store --test postgres
  GATEHOUSE_TEST_BACKEND=postgres GATEHOUSE_TEST_PG_URL=$PG_URL cargo test -p gatehouse-api --test api
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is required in CI but nothing answers at ${pg_host}:${pg_port:-5432}"
  exit 1
else
  echo "PostgreSQL suite skipped: nothing answers at ${pg_host}:${pg_port:-5432} (set GATEHOUSE_TEST_PG_URL)"
fi

step "conformance: the release binary, SailPoint's Python SDK and schemathesis"
# Debian's python3 has the venv module without ensurepip, so `venv --help` passes while creating
# one fails: check for what venv creation needs.
ensure "python3 -c 'import ensurepip, venv'" python3-venv
cargo build --release -p gatehouse
tests/conformance/run.sh

echo
echo "All checks passed in $(( $(date +%s) - started )) s."
