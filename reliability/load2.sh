#!/usr/bin/env bash
# LOAD-2 (docs/RELIABILITY.md): reads, 1,000 req/s of mixed `GET` list/detail for 2 minutes,
# SQLite, and the page cap (limit ≤ 250). Runs the ignored test crates/cli/tests/load2.rs and
# appends its summary line to reliability/results.txt.
#
#   PROFILE=release reliability/load2.sh
#   LOAD2_SECONDS=20 reliability/load2.sh       # a quick check of the script
#
# Knobs: LOAD2_RATE, LOAD2_SECONDS, LOAD2_PEOPLE, LOAD2_SEED, PROFILE (dev|release; default dev,
# which needs no separate build). The build goes to CARGO_TARGET_DIR when set, as cargo's does.
exec "$(dirname "$0")/run-ignored.sh" load2 LOAD-2
