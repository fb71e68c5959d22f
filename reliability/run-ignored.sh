#!/usr/bin/env bash
# Runs one ignored long-run test of crates/cli/tests and appends its RESULT line to
# reliability/results.txt. The scripts beside this one call it with their test and id:
#
#   reliability/run-ignored.sh dur2 DUR-2
#
# PROFILE=release builds optimised (default dev, which needs no separate build); every other
# knob is the test's own environment variable and passes through.
set -euo pipefail
cd "$(dirname "$0")/.."
test_name=$1 id=$2
profile=()
[[ "${PROFILE:-dev}" == release ]] && profile=(--release)
log=$(mktemp)
set +e
cargo test "${profile[@]}" -p gatehouse --test "$test_name" -- --ignored --nocapture 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
line=$(grep -o "$id RESULT .*" "$log" | tail -1 || true)
if [[ -n "$line" ]]; then
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $id profile=${PROFILE:-dev} pass=$([[ $rc == 0 ]] && echo yes || echo no) ${line#"$id" RESULT }" >> reliability/results.txt
fi
rm -f "$log"
exit "$rc"
