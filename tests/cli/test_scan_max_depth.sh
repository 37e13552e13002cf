#!/usr/bin/env bash
# scan without a broker (--dry-run, checked by tests/scan_check.py):
# --max-depth (too-deep).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

# --- --max-depth --------------------------------------------------------------
t=$WORK/t8
r=$(realpath -m "$t")
mk "$t/top" "$t/d1/a" "$t/d1/d2/b" "$t/d1/d2/d3/c"
mkdir "$t/e1"
dry --max-depth 1 "$t"
expect_rc 0 "--max-depth 1"
outcomes "--max-depth 1: DIR's own entries" "$r" top published d1 rejected:too-deep \
    e1 rejected:too-deep
dry --max-depth 2 "$t"
outcomes "--max-depth 2" "$r" top published d1/a published d1/d2 rejected:too-deep
dry --max-depth 3 "$t"
outcomes "--max-depth 3" "$r" top published d1/a published d1/d2/b published \
    d1/d2/d3 rejected:too-deep
dry "$t"
outcomes "no --max-depth" "$r" top published d1/a published d1/d2/b published \
    d1/d2/d3/c published

finish
