#!/usr/bin/env bash
# The import benchmark: generate a tenant file of N identities (a management tree) and M entitlements
# over 20 sources with a seeded generator, then time `gatehouse import` into an empty SQLite data
# directory, and again over itself (every record unchanged). Not part of the test suite.
#
#   bench/import/run.sh                      # 1,000,000 identities, 100,000 entitlements
#   IDENTITIES=100000 ENTITLEMENTS=10000 bench/import/run.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench bench/import/run.sh   # PostgreSQL instead
set -euo pipefail
cd "$(dirname "$0")/../.."

IDENTITIES=${IDENTITIES:-1000000}
ENTITLEMENTS=${ENTITLEMENTS:-100000}
SEED=${SEED:-42}
work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

cargo build --release -p gatehouse --quiet
bin=target/release/gatehouse
file="$work/tenant.json"
python3 bench/import/gen.py --identities "$IDENTITIES" --entitlements "$ENTITLEMENTS" --seed "$SEED" > "$file"
echo "tenant file: $(du -h "$file" | cut -f1), $IDENTITIES identities, $ENTITLEMENTS entitlements (seed $SEED)"

store=(--data-dir "$work/data")
if [ -n "${DATABASE_URL:-}" ]; then store=(--database-url "$DATABASE_URL"); fi

run() {
  local label=$1 start end
  start=$(date +%s.%N)
  "$bin" import "${store[@]}" "$file" > "$work/out.txt"
  end=$(date +%s.%N)
  python3 - "$label" "$start" "$end" "$((IDENTITIES + ENTITLEMENTS + 20))" <<'PY'
import sys
label, start, end, rows = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
secs = end - start
print(f"{label:<26} {secs:7.1f} s   {rows / secs:>9,.0f} records/s")
PY
}

run "import into an empty store"
run "re-import (all unchanged)"
tail -n 1 "$work/out.txt"
