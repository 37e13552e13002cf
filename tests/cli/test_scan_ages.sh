#!/usr/bin/env bash
# scan without a broker (--dry-run, checked by tests/scan_check.py):
# --min-age and --max-age (too-young, too-old).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

# --- ages -------------------------------------------------------------------
t=$WORK/t5
r=$(realpath -m "$t")
mk "$t/new" "$t/hour2" "$t/day2" "$t/future"
touch -d '2 hours ago' "$t/hour2"
touch -d '2 days ago' "$t/day2"
touch -d '1 hour' "$t/future"
dry --min-age 1h "$t"
expect_rc 0 "--min-age"
outcomes "--min-age 1h" "$r" new rejected:too-young future rejected:too-young \
    hour2 published day2 published
dry --max-age 1d "$t"
outcomes "--max-age 1d" "$r" new published future published hour2 published day2 rejected:too-old
dry --min-age 1h --max-age 1h30m "$t"
outcomes "--min-age 1h --max-age 1h30m" "$r" new rejected:too-young future rejected:too-young \
    hour2 rejected:too-old day2 rejected:too-old
dry --min-age 1h --max-size 1 "$t"
outcomes "the size is checked before the age" "$r" new rejected:too-large \
    future rejected:too-large hour2 rejected:too-large day2 rejected:too-large

finish
