#!/usr/bin/env bash
# LOAD-5 (docs/RELIABILITY.md): a ten-minute soak at 100 req/s of mixed load, SQLite. Runs the
# ignored test crates/cli/tests/load5.rs and appends its summary line to reliability/results.txt.
# (bench/soak.sh is the benchmark's P6: wrk at full speed for 5 minutes, RSS only.)
#
#   reliability/load5.sh
#   LOAD5_SECONDS=60 reliability/load5.sh       # a quick check of the script
#
# Knobs: LOAD5_RATE, LOAD5_SECONDS, LOAD5_SAMPLE_SECONDS, LOAD5_WARMUP_SECONDS,
# PROFILE (dev|release; default dev, which needs no separate build). The build goes to
# CARGO_TARGET_DIR when set, as cargo's does.
exec "$(dirname "$0")/run-ignored.sh" load5 LOAD-5
