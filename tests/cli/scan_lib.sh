# tests/cli/scan_lib.sh - helpers of the scan tests without a broker
# (tests/cli/test_scan*.sh; sourced after ../lib.sh, not run): dry runs and
# the checks of their JSON lines by tests/scan_check.py.
unset SCANMOVE_JOBS
# Some runs change directory: keep the binary reachable.
case $SCAN in /*) ;; *) SCAN=$PWD/$SCAN ;; esac
PY=$TESTS_DIR/scan_check.py

# field PATH KEY : KEY of the line for PATH in the last dry run's output.
field() { "$PY3" "$PY" field "$WORK/out" "$WORK/rej" -- "$1" "$2" 2>&1 || true; }

# Runs as another user or without privileges (set by test_scan_readable.sh) for the
# permission checks; empty for an ordinary dry run.
PFX=()

# dry ARGS... : scan --dry-run --json --rejects $WORK/rej ARGS..., then check
# every message against its file and the summary against the lines.
dry() {
    rm -f "$WORK/rej"
    run "${PFX[@]}" "$SCAN" --dry-run --json --rejects "$WORK/rej" "$@"
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; then
        checks=$((checks + 1))
        [ -f "$WORK/rej" ] || fail "scan $*: --rejects file not created"
        [ -f "$WORK/rej" ] || : >"$WORK/rej"
        pycheck "messages of 'scan $*'" checkmsg any "$WORK/out"
        pycheck "summary of 'scan $*'" summary true "$WORK/out" "$WORK/rej"
    fi
}

# outcomes WHAT ROOT PATH OUTCOME... : after dry, each listed entry has
# exactly that outcome ("published", "rejected:REASON", "failed:REASON"),
# and no other entry has one.
outcomes() {
    local what=$1 root=$2
    shift 2
    pycheck "$what" outcomes "$root" "$WORK/out" "$WORK/rej" -- "$@"
}

# mk FILE... : create files (and their directories) with a little text.
mk() {
    local f
    for f in "$@"; do
        mkdir -p -- "$(dirname -- "$f")"
        printf 'contents of %s\n' "$f" >"$f"
    done
}
