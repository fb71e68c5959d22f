#!/usr/bin/env bash
# The service benchmarks: builds the release binaries, prepares a tenant, and measures with `wrk`
# on 127.0.0.1 against Gatehouse and the baseline server in the same run, on SQLite and (when
# 127.0.0.1:5432 answers) PostgreSQL, RUNS times, then prints a table of medians, min–max and
# ratios. Not part of the test suite (`--smoke` runs every step briefly, to check the scripts
# still work).
#
#   bench/run.sh                        # full run: 100,000 people, 1,000,000 requests for P3, RUNS=3
#   bench/run.sh --smoke                # under a minute; checks the harness only (RUNS=1)
#   bench/run.sh --sqlite-only          # skip PostgreSQL even if it answers
#   bench/run.sh --postgres-only        # PostgreSQL only (the baseline is measured all the same)
#   RUNS=5 DURATION=30s CONNECTIONS=64 bench/run.sh
#   SKIP_P5=1 bench/run.sh              # no Prism (P5); skipped anyway without npm
#
# Scenarios (see BENCHMARKS.md for the targets):
#   baseline   GET of a fixed 600-byte JSON body from an axum server (the machine's reference)
#   P1 read    GET /v3/service-desk-integrations/{id}; GET /v3/access-request-status (a page)
#   P2 intake  POST /v3/access-requests, each a new (identity, entitlement) pair, 202 after commit
#              (SQLite synchronous=FULL, the default)
#   P3 lists   with 1,000,000 requests and 100,000 identities: status first page (filtered,
#              sorted), count=true, offset 100,000; identities first page (filtered, sorted)
#   P4 e2e     P4_REQUESTS (10,000) requests submitted, approved through the work-item API,
#              ticketed at a test ServiceNow desk, closed by webhook, REQUEST_COMPLETED
#              (bench/e2e, the release binary as a separate process)
#   P5 Prism   the P1 GET against Stoplight Prism mocking the same spec (bench/prism), and
#              start-up to first answered request for Gatehouse and Prism
#   P6 memory  the server's resident set after P3 (the 5-minute soak is bench/soak.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
SQLITE_ONLY=0
POSTGRES_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --smoke) SMOKE=1 ;;
    --sqlite-only) SQLITE_ONLY=1 ;;
    --postgres-only) POSTGRES_ONLY=1 ;;
    *) echo "usage: bench/run.sh [--smoke] [--sqlite-only | --postgres-only]" >&2; exit 2 ;;
  esac
done
if ((SMOKE)); then
  IDENTITIES=${IDENTITIES:-2000}; ENTITLEMENTS=${ENTITLEMENTS:-50}; REQUESTS=${REQUESTS:-20000}
  DURATION=${DURATION:-1s}; RUNS=${RUNS:-1}; P4_REQUESTS=${P4_REQUESTS:-50}; P4_TIMEOUT=${P4_TIMEOUT:-60}
else
  IDENTITIES=${IDENTITIES:-100000}; ENTITLEMENTS=${ENTITLEMENTS:-1000}; REQUESTS=${REQUESTS:-1000000}
  DURATION=${DURATION:-10s}; RUNS=${RUNS:-3}; P4_REQUESTS=${P4_REQUESTS:-10000}; P4_TIMEOUT=${P4_TIMEOUT:-300}
fi
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/gatehouse_bench}
PG_ADMIN_URL=${PG_URL%/*}/postgres
command -v wrk >/dev/null || { echo "bench: wrk is needed (apt-get install wrk)" >&2; exit 2; }

stores=(sqlite)
if ((!SQLITE_ONLY)) && command -v psql >/dev/null && psql -X -q -At "$PG_ADMIN_URL" -c 'select 1' >/dev/null 2>&1; then
  stores+=(postgres)
else
  echo "bench: PostgreSQL not used (--sqlite-only, no psql, or nothing answering at ${PG_URL%/*})"
fi
if ((POSTGRES_ONLY)); then
  [[ " ${stores[*]} " == *" postgres "* ]] || { echo "bench: --postgres-only, but PostgreSQL does not answer" >&2; exit 2; }
  stores=(postgres)
fi
P5=1
if [[ -n "${SKIP_P5:-}" ]]; then
  P5=0; echo "bench: P5 (Prism) skipped: SKIP_P5 is set"
elif ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  P5=0; echo "bench: P5 (Prism) skipped: node and npm are needed"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ " ${stores[*]} " == *" postgres "* ]]; then
    psql -X -q "$PG_ADMIN_URL" -c 'drop database if exists gatehouse_bench' >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

started=$(date +%s)
cargo build --release --quiet -p gatehouse -p gatehouse-bench-baseline -p gatehouse-bench-e2e
bin=target/release/gatehouse
if ((P5)); then
  # A bench-local install, pinned by the committed lock file; no install scripts run.
  if [[ ! -x bench/prism/node_modules/.bin/prism || bench/prism/package-lock.json -nt bench/prism/node_modules ]]; then
    (cd bench/prism && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || { P5=0; echo "bench: P5 skipped: npm ci failed"; }
  fi
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
results="$work/results.jsonl"
: > "$results"
RUN=1
STORE=sqlite

# Adds "store" and "run" to a JSON line.
tag() { python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r.update(store=sys.argv[1], run=int(sys.argv[2])); print(json.dumps(r))' "$1" "$RUN"; }

# wrk with latency percentiles; records one JSON line per scenario.
measure() {
  local name=$1 url=$2; shift 2
  local out="$work/wrk-$name.txt"
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency "$@" "$url" > "$out" 2> "$out.err" || true
  python3 - "$name" "$out" <<'PY' | tag "$STORE" >> "$results"
import json, re, sys
name, path = sys.argv[1], sys.argv[2]
text = open(path).read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    n, unit = float(m.group(1)), m.group(2)
    return n / 1000 if unit == "us" else n * 1000 if unit == "s" else n
m = re.search(r"Requests/sec:\s+([\d.]+)", text)
if not m:
    sys.exit(f"bench: wrk gave no figures for {name}:\n{text}")
rps = float(m.group(1))
lat = {p: ms(v) for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", text, re.M)}
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
print(json.dumps({"name": name, "rps": rps, "p50": lat.get("50"), "p90": lat.get("90"),
                  "p99": lat.get("99"), "errors": int(bad.group(1)) if bad else 0,
                  "socket_errors": sum(map(int, sock.groups())) if sock else 0}))
PY
}

# One request timed (median of 5), for the count and deep-page figures.
timed() {
  local name=$1 url=$2
  python3 - "$name" "$url" "$TOKEN" <<'PY' | tag "$STORE" >> "$results"
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

store_args() {
  if [[ $STORE == postgres ]]; then echo "--data-dir $work/data --database-url $PG_URL"; else echo "--data-dir $work/data"; fi
}
fresh_store() {
  rm -rf "$work/data"
  if [[ $STORE == postgres ]]; then
    psql -X -q "$PG_ADMIN_URL" -c 'drop database if exists gatehouse_bench' -c 'create database gatehouse_bench' >/dev/null
  fi
}
serve_cmd() {
  # shellcheck disable=SC2046
  echo "$bin serve $(store_args) --listen 127.0.0.1:$1 --rate-limit off --no-demo --log warn"
}
export GATEHOUSE_ADMIN_CLIENT_ID=bench-admin GATEHOUSE_ADMIN_CLIENT_SECRET=bench-admin-secret-0123456789
start_server() {
  PORT=$(free_port)
  $(serve_cmd "$PORT") > "$work/server.log" 2>&1 &
  SERVER=$!
  pids+=("$SERVER")
  BASE="http://127.0.0.1:$PORT"
  for _ in $(seq 1 200); do curl -fs "$BASE/health/ready" >/dev/null && break; sleep 0.05; done
  TOKEN=$(curl -fs -X POST "$BASE/oauth/token" -d grant_type=client_credentials \
    -d client_id=bench-admin -d client_secret=bench-admin-secret-0123456789 | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  auth=(-H "Authorization: Bearer $TOKEN")
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; }
api() { curl -fs "${auth[@]}" -H 'Content-Type: application/json' "$@"; }
ids_of() {
  if [[ $STORE == postgres ]]; then
    psql -X -At "$PG_URL" -c "select id from $1 order by id"
  else
    python3 -c 'import sqlite3,sys; [print(i) for (i,) in sqlite3.connect(sys.argv[1]).execute(f"select id from {sys.argv[2]} order by id")]' "$work/data/gatehouse.db" "$1"
  fi
}

# P1, P2, P3 and the memory after P3 on the current store.
service_scenarios() {
  echo "== [$STORE, run $RUN] preparing: $IDENTITIES identities, $ENTITLEMENTS entitlements"
  fresh_store
  # shellcheck disable=SC2046
  "$bin" import $(store_args) "$work/tenant.json" > /dev/null
  start_server
  ids_of identity > "$work/ids.txt"
  ids_of entitlement > "$work/ents.txt"
  local owner cluster
  owner=$(head -1 "$work/ids.txt")
  cluster=$(api -X POST "$BASE/v3/managed-clusters" -d '{"name":"bench","type":"idn"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  SDIM=$(api -X POST "$BASE/v3/service-desk-integrations" -d "{\"name\":\"Desk\",\"description\":\"bench\",\"type\":\"ServiceNowSDIM\",\"ownerRef\":{\"type\":\"IDENTITY\",\"id\":\"$owner\"},\"clusterRef\":{\"type\":\"CLUSTER\",\"id\":\"$cluster\"},\"attributes\":{\"url\":\"https://desk.example.com\",\"username\":\"svc\",\"password\":\"pw\"}}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

  echo "== [$STORE, run $RUN] P1 (GET, $CONNECTIONS connections, $DURATION each)"
  measure p1_sdim_get "$BASE/v3/service-desk-integrations/$SDIM" "${auth[@]}"
  echo "== [$STORE, run $RUN] P2 intake (POST /v3/access-requests)"
  IDS_FILE="$work/ids.txt" ENTS_FILE="$work/ents.txt" TOKEN="$TOKEN" THREADS="$THREADS" \
    measure p2_intake "$BASE" -s bench/load/intake.lua
  measure p1_status_page "$BASE/v3/access-request-status?limit=250" "${auth[@]}"
  stop_server

  # Start-up to the first answered P1 GET, on this store as P2 left it (token from before).
  local sport
  sport=$(free_port)
  # shellcheck disable=SC2046
  python3 bench/startup.py gatehouse_startup "http://127.0.0.1:$sport/v3/service-desk-integrations/$SDIM" \
    --bearer "$TOKEN" -- $(serve_cmd "$sport") | tag "$STORE" >> "$results"

  echo "== [$STORE, run $RUN] P3: loading $REQUESTS access requests"
  if [[ $STORE == postgres ]]; then
    python3 bench/load/requests.py "$PG_URL" "$REQUESTS"
  else
    python3 bench/load/requests.py "$work/data/gatehouse.db" "$REQUESTS"
  fi
  start_server
  local since
  since=$(python3 -c 'import datetime; print((datetime.datetime.now(datetime.timezone.utc)-datetime.timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
  CONNECTIONS=8 measure p3_status_first_page "$BASE/v3/access-request-status?limit=250&sorters=-created&filters=created%20gt%20$since" "${auth[@]}"
  CONNECTIONS=8 measure p3_identities_first_page "$BASE/v2024/identities?limit=250&sorters=name&filters=name%20sw%20%22a%22" "${auth[@]}"
  timed p3_status_count "$BASE/v3/access-request-status?limit=1&count=true"
  timed p3_status_offset_100000 "$BASE/v3/access-request-status?limit=250&offset=100000"
  local rss
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")
  echo "{\"name\": \"p6_rss_after_p3\", \"rss_mb\": $((rss / 1024))}" | tag "$STORE" >> "$results"
  stop_server
}

# P4 on a fresh store: the e2e driver imports its own tenant and starts its own server.
end_to_end() {
  echo "== [$STORE, run $RUN] P4 end to end: $P4_REQUESTS requests"
  local db=()
  if [[ $STORE == postgres ]]; then fresh_store; db=(--database-url "$PG_URL"); fi
  target/release/gatehouse-bench-e2e --gatehouse "$bin" --requests "$P4_REQUESTS" --timeout "$P4_TIMEOUT" \
    --label "$STORE" "${db[@]}" --json "$work/p4.jsonl"
  tail -1 "$work/p4.jsonl" | tag "$STORE" >> "$results"
}

# P5: the same GET against Prism mocking the spec subset, and Prism's start-up.
prism() {
  local pport
  pport=$(free_port)
  local cmd=(bench/prism/node_modules/.bin/prism mock -h 127.0.0.1 -p "$pport" spec/sailpoint/subset-v3.json)
  echo "== [run $RUN] P5: Prism $(bench/prism/node_modules/.bin/prism --version) on spec/sailpoint/subset-v3.json"
  STORE=prism
  python3 bench/startup.py prism_startup "http://127.0.0.1:$pport/service-desk-integrations/$SDIM" \
    --bearer "$TOKEN" -- "${cmd[@]}" | tag prism >> "$results"
  "${cmd[@]}" > "$work/prism.log" 2>&1 &
  local prism_pid=$!
  pids+=("$prism_pid")
  for _ in $(seq 1 600); do curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$pport/service-desk-integrations/$SDIM" >/dev/null && break; sleep 0.05; done
  measure p5_prism_sdim_get "http://127.0.0.1:$pport/service-desk-integrations/$SDIM" "${auth[@]}"
  kill "$prism_pid"; wait "$prism_pid" 2>/dev/null || true
  STORE=${stores[0]}
}

echo "== generating the tenant: $IDENTITIES identities, $ENTITLEMENTS entitlements"
python3 bench/import/gen.py --identities "$IDENTITIES" --entitlements "$ENTITLEMENTS" > "$work/tenant.json"
BPORT=$(free_port)
target/release/gatehouse-bench-baseline "127.0.0.1:$BPORT" & pids+=($!)
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$BPORT/" >/dev/null && break; sleep 0.1; done

for RUN in $(seq 1 "$RUNS"); do
  STORE=-
  echo "== [run $RUN] baseline ($CONNECTIONS connections, $DURATION)"
  measure baseline "http://127.0.0.1:$BPORT/"
  for STORE in "${stores[@]}"; do
    service_scenarios
    # Prism right after the first store's P1, while its integration id and token are at hand.
    if [[ $STORE == "${stores[0]}" ]] && ((P5)); then prism; fi
    end_to_end
  done
done

echo
echo "== $(date -u +%FT%TZ), $RUNS run(s), $(( $(date +%s) - started )) s in all"
python3 bench/summary.py "$results"
if [[ -n "${RESULTS_OUT:-}" ]]; then cp "$results" "$RESULTS_OUT"; fi
