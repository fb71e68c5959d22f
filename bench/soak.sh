#!/usr/bin/env bash
# P6 soak: a mixed read/write load (bench/load/mixed.lua: 20 % POST /v3/access-requests, 80 %
# GETs of an integration, a status page and an identities page) for SOAK_SECONDS (300) against
# the release binary, sampling the server's resident set (VmRSS) every SAMPLE_SECONDS (10). Prints
# the samples, first/last/max and the change from the first sample to the last and to the max.
# Target: flat within ± 10 %. Not part of the test suite.
#
#   bench/soak.sh                                   # SQLite, 5 minutes
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse_soak bench/soak.sh   # an empty database
#   SOAK_SECONDS=30 bench/soak.sh                   # a quick check of the script
set -euo pipefail
cd "$(dirname "$0")/.."

SOAK_SECONDS=${SOAK_SECONDS:-300}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-10}
IDENTITIES=${IDENTITIES:-20000}
ENTITLEMENTS=${ENTITLEMENTS:-200}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
command -v wrk >/dev/null || { echo "soak: wrk is needed (apt-get install wrk)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-soak.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cargo build --release --quiet -p gatehouse
bin=target/release/gatehouse
store=(--data-dir "$work/data")
if [[ -n "${DATABASE_URL:-}" ]]; then store+=(--database-url "$DATABASE_URL"); fi

python3 bench/import/gen.py --identities "$IDENTITIES" --entitlements "$ENTITLEMENTS" > "$work/tenant.json"
"$bin" import "${store[@]}" "$work/tenant.json" > /dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
GATEHOUSE_ADMIN_CLIENT_ID=soak-admin GATEHOUSE_ADMIN_CLIENT_SECRET=soak-admin-secret-0123456789 \
  "$bin" serve "${store[@]}" --listen "127.0.0.1:$PORT" --rate-limit off --no-demo --log warn \
  > "$work/server.log" 2>&1 &
SERVER=$!
pids+=("$SERVER")
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 200); do curl -fs "$BASE/health/ready" >/dev/null && break; sleep 0.05; done
TOKEN=$(curl -fs -X POST "$BASE/oauth/token" -d grant_type=client_credentials \
  -d client_id=soak-admin -d client_secret=soak-admin-secret-0123456789 | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
api() { curl -fs -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
ids_of() {
  if [[ -n "${DATABASE_URL:-}" ]]; then
    psql -X -At "$DATABASE_URL" -c "select id from $1 order by id"
  else
    python3 -c 'import sqlite3,sys; [print(i) for (i,) in sqlite3.connect(sys.argv[1]).execute(f"select id from {sys.argv[2]} order by id")]' "$work/data/gatehouse.db" "$1"
  fi
}
ids_of identity > "$work/ids.txt"
ids_of entitlement > "$work/ents.txt"
owner=$(head -1 "$work/ids.txt")
cluster=$(api -X POST "$BASE/v3/managed-clusters" -d '{"name":"soak","type":"idn"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
SDIM=$(api -X POST "$BASE/v3/service-desk-integrations" -d "{\"name\":\"Desk\",\"description\":\"soak\",\"type\":\"ServiceNowSDIM\",\"ownerRef\":{\"type\":\"IDENTITY\",\"id\":\"$owner\"},\"clusterRef\":{\"type\":\"CLUSTER\",\"id\":\"$cluster\"},\"attributes\":{\"url\":\"https://desk.example.com\",\"username\":\"svc\",\"password\":\"pw\"}}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

echo "soak: ${SOAK_SECONDS} s of mixed load, $CONNECTIONS connections, RSS every ${SAMPLE_SECONDS} s ($([[ -n "${DATABASE_URL:-}" ]] && echo PostgreSQL || echo SQLite))"
rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
echo "0 $(rss)" > "$work/rss.txt"
IDS_FILE="$work/ids.txt" ENTS_FILE="$work/ents.txt" TOKEN="$TOKEN" SDIM="$SDIM" THREADS="$THREADS" \
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${SOAK_SECONDS}s" --timeout 10s -s bench/load/mixed.lua "$BASE" > "$work/wrk.txt" 2>&1 &
WRK=$!
pids+=("$WRK")
for ((t = SAMPLE_SECONDS; t <= SOAK_SECONDS; t += SAMPLE_SECONDS)); do
  sleep "$SAMPLE_SECONDS"
  echo "$t $(rss)" >> "$work/rss.txt"
done
wait "$WRK" || true
grep -E "Requests/sec|Non-2xx|Socket errors|requests in" "$work/wrk.txt" || true
python3 - "$work/rss.txt" <<'PY'
import sys
samples = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
print("t s   RSS MB")
for t, kb in samples:
    print(f"{t:>4} {kb / 1024:8.1f}")
loaded = samples[1:] or samples  # the first sample under load is the reference
first, last = loaded[0][1], loaded[-1][1]
peak = max(kb for _, kb in loaded)
change, to_peak = (last - first) / first * 100, (peak - first) / first * 100
print(f"idle {samples[0][1] / 1024:.1f} MB; under load: first {first / 1024:.1f} MB, last {last / 1024:.1f} MB, "
      f"max {peak / 1024:.1f} MB; first to last {change:+.1f} %, first to max {to_peak:+.1f} %")
print("flat within ±10 %:", "yes" if abs(change) <= 10 and to_peak <= 10 else "no")
PY
if grep -q "Non-2xx" "$work/wrk.txt"; then echo "soak: some answers were not 2xx" >&2; exit 1; fi
