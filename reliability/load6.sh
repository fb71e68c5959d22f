#!/usr/bin/env bash
# LOAD-6 (docs/RELIABILITY.md): slow desk back-pressure, 200 req/s of `POST /v3/access-requests`
# for 3 minutes, SQLite, while the test desk takes 2 s over every call and refuses calls beyond
# 5 at once. Runs the ignored test crates/cli/tests/load6.rs and appends its summary line to
# reliability/results.txt.
#
#   PROFILE=release reliability/load6.sh
#   LOAD6_SECONDS=20 reliability/load6.sh       # a quick check of the script
#
# Knobs: LOAD6_RATE, LOAD6_SECONDS, LOAD6_SAMPLE_SECONDS, LOAD6_AFTER_SECONDS, PROFILE
# (dev|release; default dev, which needs no separate build). The build goes to CARGO_TARGET_DIR
# when set, as cargo's does.
exec "$(dirname "$0")/run-ignored.sh" load6 LOAD-6
