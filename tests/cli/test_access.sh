#!/usr/bin/env bash
# A directory named on the command line (scan's DIR, move's --from ROOT and
# --to DEST) that exists but may not be read or searched exits 77 (access
# refused), not 66 (which says it does not exist), with the usual sentence
# (move's names the option), before connecting; what move needs besides
# (write permission) is tests/cli/test_move_setup.sh's. Needs an unprivileged user: as root, the tools run as
# nobody through setpriv (skipped, status 77 for ctest, without setpriv).
. "$(dirname "$0")/../lib.sh"

NOBROKER=(--url amqp://127.0.0.1:1/ --reconnect-timeout 1s)
AS=()
if [ "$(id -u)" -eq 0 ]; then
    if ! command -v setpriv >/dev/null; then
        echo "SKIP: running as root and setpriv is not installed: cannot check access refused" >&2
        exit 77
    fi
    AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
    if ! "${AS[@]}" true; then
        fail "setpriv cannot run a command as nobody:nogroup"
        finish
    fi
    # The workspace must be searchable by nobody, or every path would be
    # refused for the wrong reason; and so must the binaries.
    chmod 711 "$WORK"
    if ! "${AS[@]}" test -x "$SCAN" || ! "${AS[@]}" test -x "$MOVE"; then
        mkdir -m 755 "$WORK/bin"
        cp "$SCAN" "$WORK/bin/scan"
        cp "$MOVE" "$WORK/bin/move"
        SCAN=$WORK/bin/scan
        MOVE=$WORK/bin/move
    fi
fi

mkdir -m 755 "$WORK/none" "$WORK/ronly" "$WORK/noread"
mkdir -m 777 "$WORK/ok" # move takes files out of its roots
mkdir -m 777 "$WORK/dest"
mkdir -m 755 "$WORK/none/sub"
echo x >"$WORK/ok/f"
echo y >"$WORK/ronly/g"
chmod 000 "$WORK/none"   # neither read nor search
chmod 555 "$WORK/ronly"  # read and search: fine for scan and --from
chmod 444 "$WORK/noread" # read, but no search: nothing beneath can be opened
# Without search permission even the owner could not empty the workspace.
trap 'chmod -R u+rwx "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT

# The unprivileged user reaches what it should: the failures below are about
# the one directory, not the way to it.
run "${AS[@]}" "$SCAN" --dry-run "$WORK/ok" "$WORK/ronly"
expect_rc 0 "scan as the test user: readable DIRs"
run "${AS[@]}" timeout 30 "$MOVE" "${NOBROKER[@]}" --from "$WORK/ok" --to "$WORK/dest"
expect_rc 69 "move as the test user: a writable root and destination reach the broker"

# denied WHAT DIR CMD... : CMD exits 77 with "TOOL: DIR: Permission denied"
# as its only line (move: "move: --from DIR: ..." or "move: --to DIR: ..."),
# and prints nothing on stdout.
denied() {
    local what=$1 dir=$2 tool
    shift 2
    tool=$(basename "$1")
    run "${AS[@]}" timeout 30 "$@"
    expect_rc 77 "$what"
    expect_eq "$(cat "$WORK/err")" "$tool: error: $dir: Permission denied" "$what: the sentence"
    expect_lines out 0 "$what: nothing on stdout"
}

for d in none noread none/sub; do
    denied "scan --dry-run, DIR $d" "$WORK/$d" "$SCAN" --dry-run "$WORK/$d"
    denied "scan, DIR $d, found before connecting" "$WORK/$d" "$SCAN" "${NOBROKER[@]}" "$WORK/$d"
    denied "scan, DIR $d after a good one" "$WORK/$d" "$SCAN" --dry-run "$WORK/ok" "$WORK/$d"
    denied "move --from $d" "--from $WORK/$d" "$MOVE" "${NOBROKER[@]}" --from "$WORK/$d" \
        --to "$WORK/dest"
    denied "move --from $d after a good one" "--from $WORK/$d" "$MOVE" "${NOBROKER[@]}" \
        --from "$WORK/ok" --from "$WORK/$d" --to "$WORK/dest"
    denied "move --to $d" "--to $WORK/$d" "$MOVE" "${NOBROKER[@]}" --from "$WORK/ok" \
        --to "$WORK/$d"
done

# What does not exist is still 66, for the same user.
run "${AS[@]}" "$SCAN" --dry-run "$WORK/missing"
expect_rc 66 "scan: a missing DIR is still 66"
expect_eq "$(cat "$WORK/err")" "scan: error: $WORK/missing: No such file or directory" \
    "scan: a missing DIR: the sentence"
run "${AS[@]}" timeout 30 "$MOVE" "${NOBROKER[@]}" --from "$WORK/missing" --to "$WORK/dest"
expect_rc 66 "move: a missing --from is still 66"
# A missing --to is 73 (cannot create), since issue 11.
run "${AS[@]}" timeout 30 "$MOVE" "${NOBROKER[@]}" --from "$WORK/ok" --to "$WORK/missing"
expect_rc 73 "move: a missing --to is 73"
run "${AS[@]}" timeout 30 "$MOVE" "${NOBROKER[@]}" --from "$WORK/ok/f" --to "$WORK/dest"
expect_rc 66 "move: a --from that is a file is still 66"

finish
