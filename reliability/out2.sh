#!/usr/bin/env bash
# OUT-2 (docs/RELIABILITY.md): a desk answering 429 Retry-After: 5. Alternating control and
# throttled rounds (SQLite, two ServiceNow test desks A and B): a control round first has 200
# requests ticketed at a healthy desk A, then times how long desk B takes to hold the tickets of
# 1,000 requests; a throttled round first queues the same 200 for desk A, which answers every
# ticket-API call 429 with Retry-After: 5, then the same 1,000 for B (OUT2_CONTROL=b-only: a
# control without A's 200). Goals: B's time in the throttled rounds within ±10 % of the control (medians); 0 calls to A
# within 5 s of a 429 it sent; after A recovers, one ticket per item. Runs the ignored test
# crates/cli/tests/out2.rs and appends its summary line to reliability/results.txt.
#
#   reliability/out2.sh
#   OUT2_ROUNDS=5 PROFILE=release reliability/out2.sh
#
# Knobs: OUT2_ROUNDS (pairs of rounds), OUT2_REQUESTS (B's), OUT2_THROTTLED (A's),
# OUT2_CONCURRENCY, OUT2_IN_FLIGHT_MS, OUT2_CONTROL (a-healthy|b-only), PROFILE (dev|release).
exec "$(dirname "$0")/run-ignored.sh" out2 OUT-2
