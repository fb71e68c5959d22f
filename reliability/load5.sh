#!/usr/bin/env bash
# LOAD-5 (docs/RELIABILITY.md): a ten-minute soak at 100 req/s of mixed load, SQLite. Runs the
# ignored test crates/cli/tests/load5.rs and appends its summary line to reliability/results.txt.
# (bench/soak.sh is the benchmark's P6: wrk at full speed for 5 minutes, RSS only.)
#
#   reliability/load5.sh
#   LOAD5_SECONDS=60 reliability/load5.sh       # a quick check of the script
#
# Knobs: LOAD5_RATE, LOAD5_SECONDS, LOAD5_SAMPLE_SECONDS, LOAD5_WARMUP_SECONDS,
# PROFILE (dev|release; default dev, which needs no separate build). Needs the sqlite3 command.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=()
[[ "${PROFILE:-dev}" == release ]] && profile=(--release)
log=$(mktemp)
set +e
cargo test "${profile[@]}" -p gatehouse --test load5 -- --ignored --nocapture 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
line=$(grep -o 'LOAD-5 RESULT .*' "$log" | tail -1 || true)
if [[ -n "$line" ]]; then
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) profile=${PROFILE:-dev} pass=$([[ $rc == 0 ]] && echo yes || echo no) ${line#LOAD-5 RESULT }" >> reliability/results.txt
fi
rm -f "$log"
exit "$rc"
