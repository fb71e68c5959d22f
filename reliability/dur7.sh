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
exec "$(dirname "$0")/run-ignored.sh" dur7 DUR-7
