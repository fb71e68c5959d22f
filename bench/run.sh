#!/usr/bin/env bash
# The service benchmarks: builds the release binaries, prepares a tenant, and measures with `wrk`
# on 127.0.0.1 against Gatehouse and the baseline server in the same run, then prints a table of
# figures and ratios. Not part of the test suite (`--smoke` runs every step for a second, to check
# the scripts still work).
#
#   bench/run.sh                        # full run: 100,000 people, 1,000,000 requests for P3
#   bench/run.sh --smoke                # seconds; checks the harness only
#   DURATION=30s CONNECTIONS=64 bench/run.sh
#
# Scenarios (see BENCHMARKS.md for the targets):
#   baseline   GET of a fixed 600-byte JSON body from an axum server (the machine's reference)
#   P1 read    GET /v3/service-desk-integrations/{id}; GET /v3/access-request-status (a page)
#   P2 intake  POST /v3/access-requests, each a new (identity, entitlement) pair, 202 after commit
#              (SQLite synchronous=FULL, the default)
#   P3 lists   with 1,000,000 requests and 100,000 identities: status first page (filtered,
#              sorted), count=true, offset 100,000; identities first page (filtered, sorted)
#   P6 memory  the server's resident set after P3
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
[[ "${1:-}" == "--smoke" ]] && SMOKE=1
if ((SMOKE)); then
  IDENTITIES=${IDENTITIES:-2000}; ENTITLEMENTS=${ENTITLEMENTS:-50}; REQUESTS=${REQUESTS:-20000}
  DURATION=${DURATION:-1s}
else
  IDENTITIES=${IDENTITIES:-100000}; ENTITLEMENTS=${ENTITLEMENTS:-1000}; REQUESTS=${REQUESTS:-1000000}
  DURATION=${DURATION:-10s}
fi
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
command -v wrk >/dev/null || { echo "bench: wrk is needed (apt-get install wrk)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cargo build --release --quiet -p gatehouse -p gatehouse-bench-baseline
bin=target/release/gatehouse
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
results="$work/results.jsonl"
: > "$results"

# wrk with latency percentiles; records one JSON line per scenario.
measure() {
  local name=$1 url=$2; shift 2
  local out="$work/wrk-$name.txt"
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency "$@" "$url" > "$out" 2> "$out.err" || true
  python3 - "$name" "$out" >> "$results" <<'PY'
import json, re, sys
name, path = sys.argv[1], sys.argv[2]
text = open(path).read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    n, unit = float(m.group(1)), m.group(2)
    return n / 1000 if unit == "us" else n * 1000 if unit == "s" else n
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
lat = {p: ms(v) for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", text, re.M)}
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(json.dumps({"name": name, "rps": rps, "p50": lat.get("50"), "p90": lat.get("90"),
                  "p99": lat.get("99"), "errors": int(bad.group(1)) if bad else 0}))
PY
}

# One request timed (median of 5), for the count and deep-page figures.
timed() {
  local name=$1 url=$2
  python3 - "$name" "$url" "$TOKEN" >> "$results" <<'PY'
import json, statistics, sys, time, urllib.request
name, url, token = sys.argv[1:]
times = []
for _ in range(5):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        r.read()
        assert r.status == 200
    times.append((time.perf_counter() - t) * 1000)
print(json.dumps({"name": name, "median_ms": statistics.median(times), "max_ms": max(times)}))
PY
}

start_server() {
  PORT=$(free_port)
  GATEHOUSE_ADMIN_CLIENT_ID=bench-admin GATEHOUSE_ADMIN_CLIENT_SECRET=bench-admin-secret-0123456789 \
    "$bin" serve --data-dir "$work/data" --listen "127.0.0.1:$PORT" --rate-limit off --no-demo --log warn \
    > "$work/server.log" 2>&1 &
  SERVER=$!
  pids+=("$SERVER")
  BASE="http://127.0.0.1:$PORT"
  for _ in $(seq 1 100); do curl -fs "$BASE/health/ready" >/dev/null && break; sleep 0.1; done
  TOKEN=$(curl -fs -X POST "$BASE/oauth/token" -d grant_type=client_credentials \
    -d client_id=bench-admin -d client_secret=bench-admin-secret-0123456789 | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; }

echo "== preparing: $IDENTITIES identities, $ENTITLEMENTS entitlements"
python3 bench/import/gen.py --identities "$IDENTITIES" --entitlements "$ENTITLEMENTS" > "$work/tenant.json"
"$bin" import --data-dir "$work/data" "$work/tenant.json" > /dev/null
start_server
auth=(-H "Authorization: Bearer $TOKEN")
api() { curl -fs "${auth[@]}" -H 'Content-Type: application/json' "$@"; }
python3 - "$work/data/gatehouse.db" "$work" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
with open(sys.argv[2] + "/ids.txt", "w") as f:
    for (i,) in db.execute("select id from identity order by id"):
        f.write(i + "\n")
with open(sys.argv[2] + "/ents.txt", "w") as f:
    for (i,) in db.execute("select id from entitlement order by id"):
        f.write(i + "\n")
PY
owner=$(head -1 "$work/ids.txt")
cluster=$(api -X POST "$BASE/v3/managed-clusters" -d '{"name":"bench","type":"idn"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
sdim=$(api -X POST "$BASE/v3/service-desk-integrations" -d "{\"name\":\"Desk\",\"description\":\"bench\",\"type\":\"ServiceNowSDIM\",\"ownerRef\":{\"type\":\"IDENTITY\",\"id\":\"$owner\"},\"clusterRef\":{\"type\":\"CLUSTER\",\"id\":\"$cluster\"},\"attributes\":{\"url\":\"https://desk.example.com\",\"username\":\"svc\",\"password\":\"pw\"}}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

BPORT=$(free_port)
target/release/gatehouse-bench-baseline "127.0.0.1:$BPORT" & pids+=($!)
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$BPORT/" >/dev/null && break; sleep 0.1; done

echo "== baseline and P1 (GET, $CONNECTIONS connections, $DURATION each)"
measure baseline "http://127.0.0.1:$BPORT/"
measure p1_sdim_get "$BASE/v3/service-desk-integrations/$sdim" "${auth[@]}"

echo "== P2 intake (POST /v3/access-requests, synchronous=FULL)"
IDS_FILE="$work/ids.txt" ENTS_FILE="$work/ents.txt" TOKEN="$TOKEN" THREADS="$THREADS" \
  measure p2_intake "$BASE" -s bench/load/intake.lua
measure p1_status_page "$BASE/v3/access-request-status?limit=250" "${auth[@]}"
stop_server

echo "== P3: loading $REQUESTS access requests"
python3 bench/load/requests.py "$work/data/gatehouse.db" "$REQUESTS"
start_server
auth=(-H "Authorization: Bearer $TOKEN")
since=$(python3 -c 'import datetime; print((datetime.datetime.utcnow()-datetime.timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
CONNECTIONS=8 measure p3_status_first_page "$BASE/v3/access-request-status?limit=250&sorters=-created&filters=created%20gt%20$since" "${auth[@]}"
CONNECTIONS=8 measure p3_identities_first_page "$BASE/v2024/identities?limit=250&sorters=name&filters=name%20sw%20%22a%22" "${auth[@]}"
timed p3_status_count "$BASE/v3/access-request-status?limit=1&count=true"
timed p3_status_offset_100000 "$BASE/v3/access-request-status?limit=250&offset=100000"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")
echo "{\"name\": \"p6_rss_after_p3\", \"rss_mb\": $((rss / 1024))}" >> "$results"
stop_server

echo
python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {r["name"]: r for r in rows}
base = by["baseline"]["rps"]
print(f"{'scenario':<28} {'req/s':>10} {'x baseline':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
for r in rows:
    if "rps" in r:
        print(f"{r['name']:<28} {r['rps']:>10,.0f} {r['rps'] / base:>10.2f} {r['p50'] or 0:>8.2f} {r['p99'] or 0:>8.2f} {r['errors']:>7}")
for r in rows:
    if "median_ms" in r:
        print(f"{r['name']:<28} median {r['median_ms']:.1f} ms, max {r['max_ms']:.1f} ms (5 calls)")
    if "rss_mb" in r:
        print(f"{r['name']:<28} {r['rss_mb']} MB resident")
bad = [r["name"] for r in rows if r.get("errors")]
if bad:
    print("scenarios with non-2xx answers:", ", ".join(bad))
    sys.exit(1)
PY
