#!/usr/bin/env bash
# DUR-7 (docs/RELIABILITY.md): SIGTERM under load, SQLite. Runs the ignored test
# crates/cli/tests/dur7.rs and appends its summary line to reliability/results.txt.
#
#   reliability/dur7.sh                         # 300 req/s for 20 s, SIGTERM at 10 s, grace 20 s
#   PROFILE=release reliability/dur7.sh
#
# Knobs: DUR7_RATE, DUR7_SECONDS, DUR7_TERM_AT, DUR7_GRACE, DUR7_DESK_DELAY_MS (the desk holds
# back its answers from 5 s before SIGTERM, so running jobs outlast the drain; 0: no delay),
# DUR7_DRAIN_SECONDS, PROFILE (dev|release; default dev, which needs no separate build).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=()
[[ "${PROFILE:-dev}" == release ]] && profile=(--release)
log=$(mktemp)
set +e
cargo test "${profile[@]}" -p gatehouse --test dur7 -- --ignored --nocapture 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
line=$(grep -o 'DUR-7 RESULT .*' "$log" | tail -1 || true)
if [[ -n "$line" ]]; then
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) profile=${PROFILE:-dev} pass=$([[ $rc == 0 ]] && echo yes || echo no) ${line#DUR-7 RESULT }" >> reliability/results.txt
fi
rm -f "$log"
exit "$rc"
