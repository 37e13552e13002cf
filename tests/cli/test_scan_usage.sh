#!/usr/bin/env bash
# scan without a broker (--dry-run, checked by tests/scan_check.py):
# usage errors: one line and exit 64; SCANMOVE_JOBS.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

mk "$WORK/t1/a.txt" "$WORK/t1/sub/b.txt"

# --- usage errors -------------------------------------------------------------------
usage() {
    local what=$1
    shift
    run "$SCAN" "$@"
    expect_rc 64 "$what"
    expect_in err "Try 'scan --help'." "$what"
}
usage "bad --max-size" --dry-run --max-size 12X "$WORK/t1"
expect_in err "'12X' is not a size" "bad --max-size names the value"
usage "negative --min-size" --dry-run --min-size -1 "$WORK/t1"
usage "bad --min-age" --dry-run --min-age soon "$WORK/t1"
usage "bad --max-age" --dry-run --max-age 3x "$WORK/t1"
usage "-j 0" --dry-run -j 0 "$WORK/t1"
usage "-j 257" --dry-run -j 257 "$WORK/t1"
usage "-j x" --dry-run --jobs x "$WORK/t1"
usage "bad --max-depth" --dry-run --max-depth deep "$WORK/t1"
usage "bad --confirm-window" --dry-run --confirm-window many "$WORK/t1"
usage "bad --reconnect-timeout" --dry-run --reconnect-timeout later "$WORK/t1"
usage "bad --blocked-timeout" --dry-run --blocked-timeout later "$WORK/t1"
usage "--mime without a pattern" --dry-run --mime
expect_in err "needs an argument" "--mime without a pattern"
usage "unknown option" --dry-run --no-such-option "$WORK/t1"
expect_in err "scan: error: unknown option '--no-such-option'" "unknown option sentence"
usage "no DIR" --dry-run
usage "nothing at all"
run env SCANMOVE_JOBS=0 "$SCAN" --dry-run "$WORK/t1"
expect_rc 78 "bad SCANMOVE_JOBS"
expect_in err "SCANMOVE_JOBS" "bad SCANMOVE_JOBS is named"
run env SCANMOVE_JOBS=0 "$SCAN" --dry-run -j 2 "$WORK/t1"
expect_rc 0 "-j overrides a bad SCANMOVE_JOBS"

# Standard output that cannot be written (a full disk) is an error, 74,
# whether it carries the dry run's messages or the rejects (--rejects -).
mkdir -p "$WORK/full"
touch "$WORK/full/a.skip" "$WORK/full/b"
set +e
"$SCAN" --dry-run "$WORK/full" >/dev/full 2>"$WORK/err"
rc=$?
set -e
expect_rc 74 "--dry-run to a full standard output"
expect_in err "cannot write to standard output" "--dry-run to a full standard output"
set +e
"$SCAN" --dry-run --exclude '*.skip' --rejects - "$WORK/full" >/dev/full 2>"$WORK/err"
rc=$?
set -e
expect_rc 74 "--rejects - to a full standard output"
expect_in err "cannot write to standard output" "--rejects - to a full standard output"

finish
