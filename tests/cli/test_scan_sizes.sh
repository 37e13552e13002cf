#!/usr/bin/env bash
# scan without a broker (--dry-run, checked by tests/scan_check.py):
# --min-size and --max-size (too-small, too-large).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

# --- sizes ------------------------------------------------------------------
t=$WORK/t4
r=$(realpath -m "$t")
mkdir -p "$t"
: >"$t/s0"
head -c 10 /dev/zero >"$t/s10"
head -c 1024 /dev/zero >"$t/k1"
head -c 1025 /dev/zero >"$t/k1p"
truncate -s 1M "$t/m1"
truncate -s 2M "$t/m2"
dry --min-size 1K "$t"
expect_rc 0 "--min-size"
outcomes "--min-size 1K (bounds are inclusive)" "$r" s0 rejected:too-small \
    s10 rejected:too-small k1 published k1p published m1 published m2 published
dry --max-size 1K "$t"
outcomes "--max-size 1K" "$r" s0 published s10 published k1 published \
    k1p rejected:too-large m1 rejected:too-large m2 rejected:too-large
dry --min-size 1025 --max-size 1M "$t"
outcomes "--min-size 1025 --max-size 1M" "$r" s0 rejected:too-small s10 rejected:too-small \
    k1 rejected:too-small k1p published m1 published m2 rejected:too-large
expect_eq "$("$PY3" "$PY" get "$WORK/out" bytes)" $((1025 + 1048576)) "summary bytes of the published files"
dry --min-size 1 --exclude 's0' "$t"
outcomes "excluded is checked before the size" "$r" s0 rejected:excluded s10 published \
    k1 published k1p published m1 published m2 published

finish
