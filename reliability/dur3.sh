#!/usr/bin/env bash
# DUR-3 (docs/RELIABILITY.md): 100 crashes at each crash point of a ticket's life
# (crates/cli/tests/failpoints.rs with GATEHOUSE_FAILPOINT_ROUNDS), each followed by a restart and
# the check of exactly one ticket per item. Appends the summary to reliability/results.txt.
#
#   reliability/dur3.sh                              # 100 rounds per point
#   GATEHOUSE_FAILPOINT_ROUNDS=10 reliability/dur3.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export GATEHOUSE_FAILPOINT_ROUNDS="${GATEHOUSE_FAILPOINT_ROUNDS:-100}"
log=$(mktemp)
set +e
cargo test -p gatehouse --test failpoints -- --nocapture 2>&1 | tee "$log" | grep -v '^failpoint '
rc=${PIPESTATUS[0]}
set -e
line=$(grep -o 'DUR-3 RESULT .*' "$log" | tail -1 || true)
if [[ -n "$line" ]]; then
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) pass=$([[ $rc == 0 ]] && echo yes || echo no) ${line#DUR-3 RESULT }" >> reliability/results.txt
elif [[ $rc != 0 ]]; then
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) pass=no DUR-3 rounds=$GATEHOUSE_FAILPOINT_ROUNDS (failed; see the test output)" >> reliability/results.txt
fi
rm -f "$log"
exit "$rc"
