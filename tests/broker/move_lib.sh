# tests/broker/move_lib.sh - helpers of the move tests (tests/broker/test_move*.sh;
# sourced after ../lib.sh, not run): the broker library, the tool runs and
# the checks of trees and summaries. Messages are crafted with
# tests/move_util.py and published and read back (with their headers) with
# tests/amqp_tool.py.
. "$TESTS_DIR/broker/lib.sh"
unset SCANMOVE_JOBS
umask 022
PY=$TESTS_DIR/move_util.py
prefix=move

# scanq ARGS... : scan into $q through $ex; must succeed.
scanq() {
    run env AMQP_URL="$url" timeout 120 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q "$@"
    expect_rc 0 "scan $*"
}

# moveq ARGS... : run move on $q through $ex.
moveq() { run env AMQP_URL="$url" timeout 90 "$MOVE" --queue "$q" --exchange "$ex" "$@"; }

# wait_count N : wait up to 10 s for $q to hold N ready messages.
wait_count() {
    local i
    for i in $(seq 100); do
        [ "$(count)" = "$1" ] && return 0
        sleep 0.1
    done
    return 0
}

# jsum KEY FILE... : the sum of KEY over --json summaries.
jsum() {
    local key=$1 f n total=0
    shift
    for f in "$@"; do
        n=$("$PY3" "$PY" jnum "$f" "$key")
        total=$((total + n))
    done
    echo "$total"
}

# expect_summary MOVED SKIPPED DUPLICATES DEAD REQUEUED WHAT : the summary
# line of the last run.
expect_summary() {
    expect_re err "^move: notice: $1 moved, $2 skipped, $3 duplicates, $4 dead-lettered, $5 requeued in [0-9]+(\.[0-9]+)? s \([0-9]+ files/s\)$" \
        "$6: summary line"
}

# expect_same_tree A B WHAT : the files below A and B (names, bytes, modes,
# mtimes; directories aside) are the same.
expect_same_tree() {
    checks=$((checks + 1))
    "$PY3" "$PY" manifest "$1" >"$WORK/m1"
    "$PY3" "$PY" manifest "$2" >"$WORK/m2"
    cmp -s "$WORK/m1" "$WORK/m2" ||
        fail "$3: $(diff "$WORK/m1" "$WORK/m2" | head -8 | cut -c1-300)"
}

# expect_manifest FILE DIR WHAT : DIR's manifest is the one saved in FILE.
expect_manifest() {
    checks=$((checks + 1))
    "$PY3" "$PY" manifest "$2" >"$WORK/m2"
    cmp -s "$1" "$WORK/m2" || fail "$3: $(diff "$1" "$WORK/m2" | head -8 | cut -c1-300)"
}

# expect_no_files DIR WHAT : only directories are left below DIR.
expect_no_files() {
    checks=$((checks + 1))
    local left
    left=$("$PY3" "$PY" files "$1")
    [ -z "$left" ] || fail "$2: files left below $1: $(printf '%s' "$left" | head -c 400)"
}

# expect_files DIR WHAT PATH... : exactly these files below DIR (a python
# repr of each relative path: 'a/b' or b'\xff').
expect_files() {
    checks=$((checks + 1))
    local dir=$1 what=$2
    shift 2
    printf '%s\n' "$@" | sort >"$WORK/want"
    "$PY3" "$PY" files "$dir" | sed -E "s/^b'(.*)'\$/'\\1'/" | sort >"$WORK/got"
    cmp -s "$WORK/want" "$WORK/got" ||
        fail "$what: $(diff "$WORK/want" "$WORK/got" | head -8 | tr '\n' ' ')"
}

# need_mount_ns : return when a tmpfs can be mounted in a private mount
# namespace here; otherwise the test is skipped (exit 77).
need_mount_ns() {
    # shellcheck disable=SC2016 # $1 is expanded by the inner sh
    unshare -m sh -c 'mount -t tmpfs tmpfs "$1"' sh "$WORK" 2>/dev/null ||
        skip "cannot mount a tmpfs in a private mount namespace: no cross-device checks"
}
