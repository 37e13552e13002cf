#!/usr/bin/env bash
# Against the private broker: movers survive losing the broker mid-run.
#   1. restart: two movers (--prefetch 8) are moving 3000 files when the
#      broker is restarted (graceful stop + start); they log the loss and the
#      reconnection, finish the queue and exit 0;
#   2. kill: the same with the broker's VM SIGKILLed, then started again;
#   3. --reconnect-timeout 3s: a mover whose broker stops mid-run gives up
#      after about 3 s with exit status 69 and one sentence; the messages of
#      the files it did not move are still queued and a fresh mover does them;
#   4. a mover started while the broker is down waits for it (within an
#      explicit --reconnect-timeout 2m, since --idle-exit alone would bound
#      the wait to its own duration) and does the queue once the broker is up.
# Movers 1, 2 and 4 give --reconnect-timeout 2m with --idle-exit for the
# same reason (before issue 11, --idle-exit did not bound the wait).
# After 1, 2 and 4 (and 3 with its fresh mover) every file is at DEST exactly
# once (bytes, relative path, mode, mtime as before), ROOT holds no file, no
# temporary file is left, the queue and <queue>.dead are empty, and the
# --json summaries account for every file: the movers moved each file once;
# messages whose move was done but whose ack was lost with the connection
# come back and are counted as duplicates.
#
# The test stops, kills and restarts the broker it was given (broker.sh with
# the caller's SCANMOVE_BROKER_DIR) and leaves it running.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"
prefix=reconn
N=3000

# setup NAME SEED : topology, R=ROOT with $N files and D=DEST for NAME, the
# manifest of ROOT in $WORK/NAME.before, and one message per file queued.
setup() {
    topo "$1"
    R=$WORK/$1/root
    D=$WORK/$1/dest
    mkdir -p "$R" "$D"
    "$PY3" "$PY" mktree "$R" "$N" "$2"
    "$PY3" "$PY" manifest "$R" >"$WORK/$1.before"
    expect_eq "$(wc -l <"$WORK/$1.before")" "$N" "$1: $N files made"
    run env AMQP_URL="$url" timeout 120 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q "$R"
    expect_rc 0 "$1: scan"
    expect_eq "$(count_retry)" "$N" "$1: $N messages queued"
}

# wait_files DIR MIN SECS : wait until DIR holds MIN files or more.
wait_files() {
    local end=$(($(now_ms) + $3 * 1000))
    while [ "$(nfiles "$1")" -lt "$2" ] && [ "$(now_ms)" -lt "$end" ]; do
        sleep 0.02
    done
}

# mover NAME ARGS... : start a mover on $q in the background, stdout in
# $WORK/NAME.out, stderr in $WORK/NAME.err; its pid in $mpid.
mover() {
    local name=$1
    shift
    env AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --json "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.err" &
    mpid=$!
    bg_pids+=("$mpid")
}

# use NAME : make $WORK/out and $WORK/err those of mover NAME (for expect_*).
use() {
    cp "$WORK/$1.out" "$WORK/out"
    cp "$WORK/$1.err" "$WORK/err"
}

# expect_done NAME : the end state of a scenario: every file at DEST once,
# as it was; no file in ROOT; no temporary file; both queues empty.
expect_done() {
    expect_manifest "$WORK/$1.before" "$D" "$1: every file at DEST exactly once, same bytes, mode, mtime"
    expect_eq "$(nfiles "$R")" 0 "$1: ROOT holds no file"
    expect_eq "$(find "$WORK/$1" -name '.scanmove-*' | head -3)" "" "$1: no temporary file left"
    expect_eq "$(count_retry)" 0 "$1: the queue is empty"
    expect_eq "$(count_retry "$q.dead")" 0 "$1: nothing dead-lettered"
}

# lost_midrun NAME HOW... : start two movers on NAME's queue, run HOW (which
# takes the broker away and brings it back) once some but not all files have
# moved, wait for the movers and check that they reconnected and did it all.
lost_midrun() {
    local name=$1 i pids=() moved=0 dups=0 n
    shift
    for i in 1 2; do
        mover "$name$i" --from "$R" --to "$D" --prefetch 8 --idle-exit 5s --reconnect-timeout 2m
        pids+=("$mpid")
    done
    wait_files "$D" 100 30
    "$@"
    n=$(cat "$WORK/$name.atloss")
    checks=$((checks + 1))
    [ "$n" -gt 0 ] && [ "$n" -lt "$N" ] ||
        fail "$name: the broker went away with $n of $N files moved, not mid-run"
    for i in 1 2; do
        wait_pid "${pids[$((i - 1))]}" 60 "$name: mover $i"
        use "$name$i"
        expect_rc 0 "$name: mover $i"
        expect_re err 'reconnecting in [0-9]+ s$' "$name: mover $i logs the lost broker"
        expect_re err '^move: warning: reconnected to ' "$name: mover $i logs its reconnection"
        pycheck "$name: mover $i --json summary" jcheck "$WORK/out" skipped=0 dead_lettered=0 \
            requeued=0
        moved=$((moved + $("$PY3" "$PY" jnum "$WORK/out" moved)))
        dups=$((dups + $("$PY3" "$PY" jnum "$WORK/out" duplicates)))
    done
    bg_pids=()
    # Each file is moved once; a message whose file was moved but whose ack
    # was lost with the connection comes back and is a duplicate.
    expect_eq "$moved" "$N" "$name: the movers moved each of the $N files once"
    checks=$((checks + 1))
    [ "$dups" -ge 0 ] || fail "$name: no duplicates count in the summaries"
    echo "$name: broker lost with $n of $N files moved; $moved moved + $dups duplicates (redeliveries)"
    echo "$name: mover 1 said: $(grep -m1 'reconnecting in' "$WORK/${name}1.err" | cut -c1-200)"
    expect_done "$name"
}

# --- 1. the broker restarts mid-move -----------------------------------------------------
restart_broker() {
    "$BROKER_SH" stop || fail "restart: broker.sh stop"
    nfiles "$D" >"$WORK/restart.atloss"
    sleep 1
    url2=$("$BROKER_SH" start) || fail "restart: broker.sh start"
    expect_eq "$url2" "$url" "restart: the broker comes back on the same URL"
}
setup restart 1
lost_midrun restart restart_broker

# --- 2. the broker is killed (SIGKILL) mid-move --------------------------------------------
kill_broker() {
    "$BROKER_SH" kill || fail "kill: broker.sh kill"
    nfiles "$D" >"$WORK/kill.atloss"
    checks=$((checks + 1))
    ! "$BROKER_SH" status 2>/dev/null || fail "kill: the broker still answers after broker.sh kill"
    sleep 1
    url2=$("$BROKER_SH" start) || fail "kill: broker.sh start"
    expect_eq "$url2" "$url" "kill: the broker comes back on the same URL"
}
setup kill 2
lost_midrun kill kill_broker

# --- 3. --reconnect-timeout: give up, exit 69, leave the rest queued ---------------------
setup timeout 3
mover timeout --from "$R" --to "$D" --prefetch 8 --reconnect-timeout 3s
tpid=$mpid
wait_files "$D" 100 30
t0=$(now_ms)
"$BROKER_SH" stop || fail "timeout: broker.sh stop"
n=$(nfiles "$D")
checks=$((checks + 1))
[ "$n" -gt 0 ] && [ "$n" -lt "$N" ] ||
    fail "timeout: the broker went away with $n of $N files moved, not mid-run"
wait_pid "$tpid" 30 "timeout"
el=$(($(now_ms) - t0))
bg_pids=()
use timeout
expect_rc 69 "timeout: a lost broker that does not come back within --reconnect-timeout"
checks=$((checks + 1))
[ "$el" -ge 2500 ] && [ "$el" -le 15000 ] ||
    fail "timeout: the mover exited $el ms after the broker stopped, expected 3 s + one backoff step"
# Besides the reconnection warnings and the summary: one plain sentence.
checks=$((checks + 1))
grep -Ev '; reconnecting in [0-9]+ s$' "$WORK/err" |
    grep -Ev '^move: notice: [0-9]+ moved, [0-9]+ skipped, [0-9]+ duplicates, [0-9]+ dead-lettered, [0-9]+ requeued in ' \
        >"$WORK/sentence" || true
[ "$(wc -l <"$WORK/sentence")" -eq 1 ] && grep -Eq '^move: [^ ].*[^ ]$' "$WORK/sentence" ||
    fail "timeout: not one plain sentence on stderr: $(head -c 600 "$WORK/err")"
checks=$((checks + 1))
if grep -qv '^move: ' "$WORK/err"; then
    fail "timeout: stderr has lines not from move: $(head -c 600 "$WORK/err")"
fi
echo "timeout: exit $rc after $el ms: $(cat "$WORK/sentence")"
moved1=$("$PY3" "$PY" jnum "$WORK/out" moved)
left=$(nfiles "$R")
expect_eq "$moved1" "$((N - left))" "timeout: the summary counts the files moved"
url2=$("$BROKER_SH" start) || fail "timeout: broker.sh start"
expect_eq "$url2" "$url" "timeout: the broker comes back on the same URL"
queued=$(count_retry)
mover timeout2 --from "$R" --to "$D" --idle-exit 2s
wait_pid "$mpid" 60 "timeout: the fresh mover"
bg_pids=()
use timeout2
expect_rc 0 "timeout: the fresh mover"
pycheck "timeout: the fresh mover's --json summary" jcheck "$WORK/out" moved="$left" skipped=0 \
    dead_lettered=0 requeued=0
dups=$("$PY3" "$PY" jnum "$WORK/out" duplicates)
# Every file not moved still has its message; so may the few (at most
# --prefetch) moved whose ack was lost: the fresh mover sees them as duplicates.
expect_eq "$((queued + moved1))" "$((N + dups))" \
    "timeout: messages still queued + files moved = files + duplicates"
checks=$((checks + 1))
[ "$dups" -ge 0 ] && [ "$dups" -le 8 ] ||
    fail "timeout: $dups duplicates, more than the --prefetch 8 unacknowledged"
echo "timeout: $moved1 moved before the broker stopped, $queued still queued, the fresh mover: $left moved + $dups duplicates"
expect_done timeout

# --- 4. a mover started while the broker is down waits for it ----------------------------
setup down 4
"$BROKER_SH" stop || fail "down: broker.sh stop"
mover down --from "$R" --to "$D" --prefetch 8 --idle-exit 5s --reconnect-timeout 2m
dpid=$mpid
sleep 3
checks=$((checks + 1))
kill -0 "$dpid" 2>/dev/null ||
    fail "down: the mover did not wait for the broker; stderr: $(head -c 600 "$WORK/down.err")"
url2=$("$BROKER_SH" start) || fail "down: broker.sh start"
expect_eq "$url2" "$url" "down: the broker comes back on the same URL"
wait_pid "$dpid" 60 "down"
bg_pids=()
use down
expect_rc 0 "down: the mover started while the broker was down"
pycheck "down: --json summary" jcheck "$WORK/out" moved="$N" duplicates=0 skipped=0 \
    dead_lettered=0 requeued=0
expect_done down

finish
