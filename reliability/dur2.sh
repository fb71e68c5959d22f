#!/usr/bin/env bash
# DUR-2 (docs/RELIABILITY.md): two replicas on one PostgreSQL database, one of them killed with
# SIGKILL every 2 s, alternately, under load. Runs the ignored test crates/cli/tests/dur2.rs and
# appends its summary line to reliability/results.txt.
#
#   reliability/dur2.sh        # 100 req/s for 60 s, SIGKILL every 2 s (A, B, A, ...)
#   DUR2_RATE=200 PROFILE=release reliability/dur2.sh
#
# The database is the machine's PostgreSQL (GATEHOUSE_TEST_PG_URL, default
# postgres://postgres@127.0.0.1:5432/postgres); a database of the run's own is created and dropped.
# Knobs: DUR2_RATE, DUR2_SECONDS, DUR2_KILL_EVERY_MS, DUR2_DRAIN_SECONDS, DUR2_MAX_LOAD_SECONDS,
# PROFILE (dev|release; default dev, which needs no separate build).
exec "$(dirname "$0")/run-ignored.sh" dur2 DUR-2
