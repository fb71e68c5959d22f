#!/usr/bin/env bash
# DUR-5 (docs/RELIABILITY.md): poison jobs and head-of-line blocking. Alternating control and
# poison rounds of 1,000 ticket requests (SQLite, a ServiceNow test desk); in the poison rounds the
# desk refuses one item for good (400) and never serves another (503), both queued first. Goal:
# the 1,000 finish within +10 % of the control (medians); the poison jobs stop at their maximum
# attempts and fail with their error. Runs the ignored test crates/cli/tests/dur5.rs and appends
# its summary line to reliability/results.txt.
#
#   reliability/dur5.sh
#   DUR5_ROUNDS=5 PROFILE=release reliability/dur5.sh
#
# Knobs: DUR5_ROUNDS (pairs of rounds), DUR5_REQUESTS, DUR5_CONCURRENCY, PROFILE (dev|release).
exec "$(dirname "$0")/run-ignored.sh" dur5 DUR-5
