#!/usr/bin/env bash
# LOAD-3 (docs/RELIABILITY.md): the token endpoint, 200 req/s of `client_credentials` for
# 2 minutes, SQLite. Runs the ignored test crates/cli/tests/load3.rs and appends its summary line
# to reliability/results.txt.
#
#   PROFILE=release reliability/load3.sh
#   LOAD3_SECONDS=20 reliability/load3.sh       # a quick check of the script
#
# Knobs: LOAD3_RATE, LOAD3_SECONDS, PROFILE (dev|release; default dev, which needs no separate
# build). The build goes to CARGO_TARGET_DIR when set, as cargo's does.
exec "$(dirname "$0")/run-ignored.sh" load3 LOAD-3
