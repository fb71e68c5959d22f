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
exec "$(dirname "$0")/run-ignored.sh" dur1 DUR-1
