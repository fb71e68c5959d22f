#!/usr/bin/env bash
# LOAD-1 (docs/RELIABILITY.md): sustained intake, 500 req/s of `POST /v3/access-requests` for
# 5 minutes, SQLite, with the test desk creating at most 200 tickets/s; then the backlog drains.
# Runs the ignored test crates/cli/tests/load1.rs and appends its summary line to
# reliability/results.txt.
#
#   PROFILE=release reliability/load1.sh
#   LOAD1_SECONDS=20 reliability/load1.sh       # a quick check of the script
#
# Knobs: LOAD1_RATE, LOAD1_SECONDS, LOAD1_DESK_CREATES, LOAD1_SAMPLE_SECONDS,
# LOAD1_WARMUP_SECONDS, PROFILE (dev|release; default dev, which needs no separate build). The
# build goes to CARGO_TARGET_DIR when set, as cargo's does.
exec "$(dirname "$0")/run-ignored.sh" load1 LOAD-1
