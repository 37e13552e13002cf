#!/usr/bin/env bash
# Fault: a mover stalls, mid-move, for longer than twice the heartbeat
# interval (issue 5, scenario 11).
#
# Mover A (heartbeat 2 s) takes the only message, a file to copy to another
# filesystem, and is frozen (SIGSTOP) while it holds it: the broker misses
# its heartbeats, closes its connection and hands the message to mover B.
# A's copy is held up by a lock on the source (as a slow copy would be), so
# B waits for the same lock, then moves the file. When A thaws, it finds
# the file moved and counts a duplicate. The file ends up exactly once.
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
AUDIT=$TESTS_DIR/audit.sh
umask 022

. "$TESTS_DIR/faults/faults.sh"
PY=$TESTS_DIR/move_util.py # for pycheck and jnum
q=faults-stall-$tag
ex=faults-stall-ex-$tag
declared+=("$q")

R=$WORK/root
D=$WORK/dest
mkdir -p "$R/sub" "$D"
head -c 5000000 /dev/urandom >"$R/sub/big.bin"
"$AUDIT" snapshot "$R" >"$WORK/root.manifest"
run env AMQP_URL="$url" timeout 60 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q "$R"
expect_rc 0 "scan"

cat >"$WORK/inner.sh" <<'EOF'
# In a private mount namespace: DEST on a tmpfs, so the move is a copy.
set -u
W=$1 url=$2 MOVE=$3 AUDIT=$4 PY3=$5 PY=$6 q=$7 ex=$8
R=$W/root D=$W/dest
mount -t tmpfs tmpfs "$D" || exit 90
say() { echo "$*" >>"$W/steps"; }
# wait_for FILE TEXT SECONDS : poll until FILE contains TEXT.
wait_for() {
    local i
    for i in $(seq $(($3 * 10))); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
"$PY3" "$PY" hold "$R/sub/big.bin" 120 "$W/held" &
holder=$!
while [ ! -e "$W/held" ]; do sleep 0.05; done
mover() { # mover NAME ARGS... : start it; its pid in $pid
    local name=$1
    shift
    # No timeout(1) in between: the signals must reach move itself.
    env AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --heartbeat 2s -v \
        --from "$R" --to "$D" --json "$@" >"$W/out.$name" 2>"$W/err.$name" &
    pid=$!
}
mover a --idle-exit 6s
a=$pid
wait_for "$W/err.a" waiting 30 || say "A never waited for the lock"
kill -STOP "$a"
say "A stopped"
# B stops after the one message (however long the broker takes to drop A).
mover b --count 1
b=$pid
# The broker drops A after two missed heartbeats and redelivers to B.
wait_for "$W/err.b" waiting 40 || say "B never got the message"
sleep 1
kill "$holder"
wait "$holder" 2>/dev/null
wait "$b"
echo $? >"$W/rc.b"
kill -CONT "$a"
wait "$a"
echo $? >"$W/rc.a"
"$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" --manifest "$W/root.manifest" \
    >"$W/audit" 2>"$W/audit.err"
echo $? >"$W/arc"
EOF

# shellcheck disable=SC2016 # $1 is expanded by the inner sh
if ! unshare -m sh -c 'mount -t tmpfs tmpfs "$1"' sh "$D" 2>/dev/null; then
    skip "cannot mount a tmpfs in a private mount namespace"
fi
set +e
unshare -m bash "$WORK/inner.sh" "$WORK" "$url" "$MOVE" "$TESTS_DIR/audit.sh" "$PY3" "$PY" "$q" "$ex"
rc=$?
set -e
expect_rc 0 "the namespace script"
expect_eq "$(cat "$WORK/steps")" "A stopped" "the stall happened as planned"
expect_eq "$(cat "$WORK/rc.a") $(cat "$WORK/rc.b")" "0 0" "both movers exit 0"
pycheck "B moved the file" jcheck "$WORK/out.b" moved=1 duplicates=0 dead_lettered=0
pycheck "A, thawed, found it moved" jcheck "$WORK/out.a" moved=0 duplicates=1 dead_lettered=0
expect_re err.a "reconnect" "A noticed its lost connection and reconnected"
expect_eq "$(cat "$WORK/arc")" 0 "the audit passes: the file once at DEST"
[ "$(cat "$WORK/arc")" = 0 ] || cat "$WORK/audit" "$WORK/audit.err" >&2
expect_re audit "1 files: 1 at DEST" "the audit counts the file at DEST"
expect_eq "$(count)" 0 \
    "the queue is empty"

finish
