#!/usr/bin/env bash
# DUR-4 (docs/RELIABILITY.md): lease expiry with a real stopped worker. Two gatehouse processes on
# one PostgreSQL database with a 30 s job lease; replica A is stopped with SIGSTOP while its
# ticket job's create is at the desk, replica B must take the job after the lease (≤ 40 s), and A,
# resumed with SIGCONT, must write nothing. Runs the ignored test crates/cli/tests/dur4.rs and
# appends its summary line to reliability/results.txt.
#
#   reliability/dur4.sh
#   DUR4_LEASE_SECONDS=60 DUR4_DESK_TIMEOUT_SECONDS=30 reliability/dur4.sh
#
# The database is the machine's PostgreSQL (GATEHOUSE_TEST_PG_URL, default
# postgres://postgres@127.0.0.1:5432/postgres); a database of the run's own is created and dropped.
# Knobs: DUR4_LEASE_SECONDS, DUR4_DESK_TIMEOUT_SECONDS, DUR4_HOLD_MS, PROFILE (dev|release).
exec "$(dirname "$0")/run-ignored.sh" dur4 DUR-4
