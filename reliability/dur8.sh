#!/usr/bin/env bash
# DUR-8 (docs/RELIABILITY.md): a 30 s PostgreSQL outage under load. Runs the ignored test
# crates/cli/tests/dur8.rs and appends its summary line to reliability/results.txt.
#
#   reliability/dur8.sh        # 200 req/s for 75 s, the database cut off from 20 s to 50 s
#   PROFILE=release reliability/dur8.sh
#
# The database is the machine's PostgreSQL (GATEHOUSE_TEST_PG_URL, default
# postgres://postgres@127.0.0.1:5432/postgres), reached through a TCP proxy that the test cuts; the
# server itself is not stopped. A database of the run's own is created and dropped.
# Knobs: DUR8_RATE, DUR8_SECONDS, DUR8_CUT_AT, DUR8_OUTAGE, DUR8_DRAIN_SECONDS,
# PROFILE (dev|release; default dev, which needs no separate build).
exec "$(dirname "$0")/run-ignored.sh" dur8 DUR-8
