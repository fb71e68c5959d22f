#!/usr/bin/env bash
# IN-3 nightly fuzzing (docs/RELIABILITY.md): every cargo-fuzz target in turn, for SECONDS each
# (default 3600), under AddressSanitizer (cargo-fuzz's default sanitizer), with the catalogue's
# options -timeout=5 -rss_limit_mb=2048 (and each target's dictionary). Each run starts from the
# kept corpus fuzz/corpus/<target>/ and the hand-written seeds fuzz/seeds/<target>/; its new
# inputs go to a scratch directory, and afterwards the kept corpus is replaced by a libFuzzer
# merge (-merge=1, what `cargo fuzz cmin` does) of corpus, seeds and new inputs: the smallest set
# of inputs that keeps the coverage. Commit fuzz/corpus/ to keep it as data.
#
# Every target runs even when one fails; at the end the script fails (exit 1) naming each crash,
# timeout, leak or OOM input the run left under fuzz/artifacts/<target>/. A summary line is
# appended to reliability/results.txt.
#
#   fuzz/nightly.sh              # every target, 1 h each
#   fuzz/nightly.sh 60           # every target, 60 s each
#   FUZZ_TARGETS="url_guard jwt_verify" fuzz/nightly.sh 600
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain (`cargo +nightly`); without
# one, RUSTC_BOOTSTRAP=1 lets the stable toolchain take cargo-fuzz's -Z flags. Not run in CI.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-${FUZZ_SECONDS:-3600}}
if cargo +nightly --version >/dev/null 2>&1; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi
targets=${FUZZ_TARGETS:-$("${fuzz[@]}" list)}

# Each target's own options besides the catalogue's.
extra() {
    case $1 in
        filter_parse) echo "-dict=filter.dict -max_len=5000" ;;
        request_body | desk_answer) echo "-dict=json.dict" ;;
        url_guard) echo "-dict=url.dict" ;;
        *) echo "" ;;
    esac
}

summary=()
failed=()
for t in $targets; do
    mkdir -p "corpus/$t" "artifacts/$t" "seeds/$t"
    scratch=$(mktemp -d)
    before=$(find "artifacts/$t" -type f | sort)
    log=$(mktemp)
    echo "== $t: ${seconds} s under AddressSanitizer"
    set +e
    # shellcheck disable=SC2046
    "${fuzz[@]}" run "$t" "$scratch" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
        -artifact_prefix="artifacts/$t/" -print_final_stats=1 $(extra "$t") 2>&1 | tee "$log" |
        grep -E "^(#[0-9]+[[:space:]]+(INITED|DONE)|Done|stat::|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)"
    rc=${PIPESTATUS[0]}
    set -e
    runs=$(grep -o '^stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
    peak=$(grep -o '^stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
    # The kept corpus: a merge of what it held, the seeds and this run's new inputs.
    merged=$(mktemp -d)
    set +e
    # shellcheck disable=SC2046
    "${fuzz[@]}" run "$t" "$merged" "corpus/$t" "seeds/$t" "$scratch" -- \
        -merge=1 -timeout=5 -rss_limit_mb=2048 -artifact_prefix="artifacts/$t/" $(extra "$t") \
        >"$log.merge" 2>&1
    mrc=$?
    set -e
    if [[ $mrc == 0 ]]; then
        rm -rf "corpus/$t"
        mkdir -p "corpus/$t"
        cp "$merged"/* "corpus/$t/" 2>/dev/null || true
    else
        echo "== $t: the merge failed (exit $mrc), corpus/$t left as it was; see $log.merge"
    fi
    # Inputs that crashed, timed out, leaked or ran out of memory, in the run or the merge.
    new=$(comm -13 <(echo "$before") <(find "artifacts/$t" -type f | sort) | grep -v '^$' || true)
    files=$(find "corpus/$t" -type f | wc -l)
    bytes=$(find "corpus/$t" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    rm -rf "$scratch" "$merged"
    status=pass
    if [[ $rc != 0 || $mrc != 0 || -n "$new" ]]; then
        status=fail
        failed+=("$t (exit $rc): ${new:-no artifact written; see $log}")
    fi
    echo "== $t: $status, ${runs:-?} executions, peak RSS ${peak:-?} MB, corpus $files inputs ($bytes bytes)"
    summary+=("\"$t\":{\"status\":\"$status\",\"exit\":$rc,\"executions\":${runs:-null},\"peak_rss_mb\":${peak:-null},\"corpus_inputs\":$files,\"corpus_bytes\":$bytes}")
done

line=$(IFS=,; echo "{\"test\":\"IN-3 nightly\",\"sanitizer\":\"address\",\"seconds_each\":$seconds,\"options\":\"-timeout=5 -rss_limit_mb=2048\",\"targets\":{${summary[*]}}}")
echo "IN-3 RESULT $line"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) profile=fuzz-asan pass=$([[ ${#failed[@]} == 0 ]] && echo yes || echo no) $line" \
    >>../reliability/results.txt
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "IN-3 nightly: FAILED"
    for f in "${failed[@]}"; do
        echo "  $f"
    done
    exit 1
fi
echo "IN-3 nightly: every target ran ${seconds} s with 0 crashes, timeouts, leaks or OOMs"
