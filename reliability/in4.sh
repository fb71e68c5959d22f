#!/usr/bin/env bash
# IN-4 (docs/RELIABILITY.md) on the built binary: hostile bodies and queries (JSON nested 10,000
# deep, a 1 MiB string, 100,000 array items, a body over the limit, absurd paging) sent over HTTP,
# each IN4_ROUNDS times (default 20). Goal: 400/413 in under 100 ms each, the server alive, its
# peak RSS under 50 MB above where it started. Runs the ignored test crates/cli/tests/in4.rs and
# appends its summary line to reliability/results.txt. Meant for the optimised build:
#
#   PROFILE=release reliability/in4.sh
exec "$(dirname "$0")/run-ignored.sh" in4 IN-4
