#!/usr/bin/env bash
# DUR-1 (docs/RELIABILITY.md): kill -9 under load, SQLite. Runs the ignored test
# crates/cli/tests/dur1.rs and appends its summary line to reliability/results.txt.
#
#   reliability/dur1.sh                         # 100 req/s for 60 s, SIGKILL every 2 s, synchronous=FULL
#   DUR1_SYNC=normal reliability/dur1.sh        # the same under synchronous=NORMAL
#   DUR1_RATE=500 PROFILE=release reliability/dur1.sh
#
# Knobs: DUR1_RATE, DUR1_SECONDS, DUR1_KILL_EVERY_MS, DUR1_SYNC (full|normal), DUR1_DRAIN_SECONDS,
# DUR1_MAX_LOAD_SECONDS,
# PROFILE (dev|release; default dev, which needs no separate build).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=()
[[ "${PROFILE:-dev}" == release ]] && profile=(--release)
log=$(mktemp)
set +e
cargo test "${profile[@]}" -p gatehouse --test dur1 -- --ignored --nocapture 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
line=$(grep -o 'DUR-1 RESULT .*' "$log" | tail -1 || true)
if [[ -n "$line" ]]; then
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) profile=${PROFILE:-dev} pass=$([[ $rc == 0 ]] && echo yes || echo no) ${line#DUR-1 RESULT }" >> reliability/results.txt
fi
rm -f "$log"
exit "$rc"
