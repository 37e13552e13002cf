#!/usr/bin/env bash
# Against the private broker: move --publish-moved EXCHANGE[/ROUTING-KEY]
# (docs/move.1 MOVED EVENTS, docs/message-format.md "The moved event,
# version 1").
#   1. 60 awkward files (names that are not UTF-8 among them) moved with
#      --publish-moved X: one event per file on a queue bound to X by the
#      default key <queue>.moved, with every documented field equal to the
#      file's message, dest its absolute place, duplicate false,
#      message_id the id, type scanmove.moved.v1, persistent;
#      events_published in the summary.
#   2. one of those messages published again (the file is at DEST): moved
#      as a duplicate, its event (to X/KEY, an explicit key) says
#      "duplicate": true with the same id.
#   3. an exchange that does not exist: exit 78 before consuming anything,
#      one sentence naming it; the messages stay queued, no file moves.
#   4. an exchange bound to nothing: the file is moved, its event returned
#      as unroutable: exit 78 with "moved events to exchange 'X' with key
#      'K' reach no queue: bind a queue to it", said once; the file's
#      message is back on the queue, not acknowledged. Once a queue is
#      bound, a mover finds the file moved and publishes its event
#      (duplicate) and acknowledges it.
#   5. the events connection idle for 6 s under a 1 s heartbeat is still
#      open (the broker closes one that sends nothing for two heartbeats),
#      and the next event goes out without a requeue.
#   7. with --fsync, the event of a file is published only after the
#      group's directories are flushed (every fsync delayed 3 s by strace):
#      none while the rename is not durable.
#   8. the exchange deleted while a mover runs: the next event is not
#      confirmed, the mover finds the exchange gone when it reconnects its
#      events connection and exits 78; the file's message is back.
#   6. bad --publish-moved values: exit 64; among them the files' own
#      exchange and key (the events would come back as files to move).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"
prefix=events
EV=$TESTS_DIR/events_tool.py
exchanges=()
on_exit+=('[ ${#exchanges[@]} -eq 0 ] || "$PY3" "$EV" delete-exchange "$url" "${exchanges[@]}" >/dev/null 2>&1')

# events_to X [QUEUE KEY] : declare exchange X (and QUEUE bound to it by KEY).
events_to() {
    exchanges+=("$1")
    [ $# -lt 2 ] || declared+=("$2")
    "$PY3" "$EV" exchange "$url" "$@" || fail "declare exchange $1"
}

# --- 1. one event per moved file, every field ------------------------------------------------
topo basic
R=$WORK/root
D=$WORK/dest
mkdir -p "$R" "$D"
"$PY3" "$PY" mktree "$R" 60 3
x=$ex-moved
events_to "$x" "$q-ev" "$q.moved"
scanq "$R"
expect_eq "$(count)" 60 "1: 60 messages queued"
# The file messages, for the comparison (peek puts them back).
"$PY3" "$AMQP" peek "$url" "$q" 1000 "$WORK/msgs" >/dev/null
expect_eq "$(wc -l <"$WORK/msgs")" 60 "1: the messages read"
moveq --from "$R" --to "$D" --idle-exit 2s --json --publish-moved "$x"
expect_rc 0 "1: move --publish-moved"
pycheck "1: --json summary" jcheck "$WORK/out" moved=60 duplicates=0 events_published=60 \
    dead_lettered=0 requeued=0
expect_eq "$(count "$q-ev")" 60 "1: 60 events queued"
"$PY3" "$AMQP" get "$url" "$q-ev" 1000 "$WORK/ev1" >/dev/null
run "$PY3" "$EV" check "$WORK/ev1" "$WORK/msgs" "$(realpath "$D")" dup=
expect_rc 0 "1: the events"
expect_in out "60 events, 0 duplicates, 60 ids" "1: one event per file"
expect_eq "$(count)" 0 "1: the queue is empty"

# --- 2. a redelivery of a moved file: duplicate, same id --------------------------------------
"$PY3" - "$WORK/msgs" "$WORK/one" <<'EOF'
import base64, json, sys
info = json.loads(open(sys.argv[1]).readline())
open(sys.argv[2], "wb").write(base64.b64decode(info["body_b64"]))
EOF
id=$("$PY3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/one")
events_to "$x-2" "$q-ev2" "chained"
publish "$WORK/one"
moveq --from "$R" --to "$D" --idle-exit 2s --json --publish-moved "$x-2/chained"
expect_rc 0 "2: move of a redelivered message"
pycheck "2: --json summary" jcheck "$WORK/out" moved=0 duplicates=1 events_published=1
"$PY3" "$AMQP" get "$url" "$q-ev2" 1000 "$WORK/ev2" >/dev/null
run "$PY3" "$EV" check "$WORK/ev2" "$WORK/msgs" "$(realpath "$D")" "dup=$id"
expect_rc 0 "2: the event of the duplicate"
expect_in out "1 events, 1 duplicates, 1 ids" "2: one event, a duplicate"
expect_eq "$("$PY3" "$EV" ids "$WORK/ev2")" "$id" "2: message_id is the file's id"

# --- 3. a missing exchange: 78 before consuming ------------------------------------------------
topo missing
R3=$WORK/r3 D3=$WORK/d3
mkdir -p "$R3" "$D3"
echo three >"$R3/a.txt"
echo more >"$R3/b.txt"
scanq "$R3"
moveq --from "$R3" --to "$D3" --idle-exit 2s --publish-moved "no-such-$ex"
expect_rc 78 "3: a missing exchange"
expect_re err "^move: error: exchange 'no-such-$ex' does not exist on amqp://guest@127\.0\.0\.1:[0-9]+/: declare it" \
    "3: one sentence naming the exchange"
expect_eq "$(grep -vc '^move: notice: [0-9]* moved, ' "$WORK/err")" 1 "3: one line besides the summary"
expect_eq "$(count)" 2 "3: both messages still queued"
expect_eq "$(nfiles "$R3")/$(nfiles "$D3")" 2/0 "3: no file moved"

# --- 4. an exchange bound to nothing: 78, the message back -------------------------------------
topo unbound
R4=$WORK/r4 D4=$WORK/d4
mkdir -p "$R4" "$D4"
echo four >"$R4/f.txt"
scanq "$R4"
events_to "$ex-unbound"
moveq --from "$R4" --to "$D4" --idle-exit 2s --json --publish-moved "$ex-unbound"
expect_rc 78 "4: events that reach no queue"
sentence="moved events to exchange '$ex-unbound' with key '$q.moved' reach no queue: bind a queue to it"
expect_in err "move: error: $sentence" "4: the sentence"
expect_eq "$(grep -cF "$sentence" "$WORK/err")" 1 "4: said once"
pycheck "4: --json summary" jcheck "$WORK/out" moved=1 events_published=0
expect_eq "$(count)" 1 "4: the file's message is back on the queue"
expect_eq "$(nfiles "$R4")/$(nfiles "$D4")" 0/1 "4: the file was moved"
"$PY3" "$EV" exchange "$url" "$ex-unbound" "$q-ev4" "$q.moved"
declared+=("$q-ev4")
moveq --from "$R4" --to "$D4" --idle-exit 2s --json --publish-moved "$ex-unbound"
expect_rc 0 "4: once a queue is bound"
pycheck "4: then, --json summary" jcheck "$WORK/out" moved=0 duplicates=1 events_published=1
expect_eq "$(count)" 0 "4: then, the message acknowledged"
expect_eq "$(count "$q-ev4")" 1 "4: then, its event"

# --- 5. an idle events connection is kept ------------------------------------------------------
topo idle
R5=$WORK/r5 D5=$WORK/d5
mkdir -p "$R5" "$D5"
events_to "$ex-idle" "$q-ev5" "$q.moved"
env AMQP_URL="$url" timeout 60 "$MOVE" --queue "$q" --exchange "$ex" --heartbeat 1s \
    --from "$R5" --to "$D5" --idle-exit 9s --json -v --publish-moved "$ex-idle" \
    >"$WORK/m5.out" 2>"$WORK/m5.err" &
bg_pids=($!)
echo one >"$R5/one.txt"
scanq "$R5"
sleep 6
# consumer, dead letters, events: all three still open (the only mover now)
nconn=$(ctl list_connections client_properties 2>/dev/null | grep -c '"connection_name","move@' || true)
expect_eq "$nconn" 3 "5: the mover's three connections, the events one included, kept while idle"
echo two >"$R5/two.txt"
scanq "$R5"
wait_pid "${bg_pids[0]}" 30 "5: the mover"
bg_pids=()
cp "$WORK/m5.out" "$WORK/out"
cp "$WORK/m5.err" "$WORK/err"
expect_rc 0 "5: the mover"
pycheck "5: --json summary" jcheck "$WORK/out" moved=2 duplicates=0 requeued=0 events_published=2
expect_not_in err "not confirmed" "5: no event lost with its connection"
expect_not_in err "reconnect" "5: no reconnection"
expect_eq "$(count "$q-ev5")" 2 "5: two events"

# --- 7. --fsync: an event only once its move is durable ----------------------------------------
topo fsync
R7=$WORK/r7 D7=$WORK/d7
mkdir -p "$R7/sub" "$D7"
echo seven >"$R7/sub/s.txt"
scanq "$R7"
events_to "$ex-fsync" "$q-ev7" "$q.moved"
if strace -f -o /dev/null -e trace=fsync -e inject=fsync:delay_enter=1000 true 2>/dev/null; then
    # Every fsync takes 3 s: the group's directories are flushed after the
    # rename, before the acknowledgement; the event must wait for them.
    strace -f -o /dev/null -e trace=fsync -e inject=fsync:delay_enter=3000000 \
        env "$NO_LSAN" AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --from "$R7" \
        --to "$D7" --fsync --idle-exit 2s --json --publish-moved "$ex-fsync" \
        >"$WORK/m7.out" 2>"$WORK/m7.err" &
    bg_pids=($!)
    wait_until 30 "7: the file renamed" test -e "$D7/sub/s.txt" || true
    sleep 1
    during=$(count "$q-ev7")
    wait_pid "${bg_pids[0]}" 60 "7: the mover"
    bg_pids=()
    cp "$WORK/m7.out" "$WORK/out"
    cp "$WORK/m7.err" "$WORK/err"
    expect_rc 0 "7: move --fsync --publish-moved"
    expect_eq "$during" 0 "7: no event while the rename is not flushed yet"
    pycheck "7: --json summary" jcheck "$WORK/out" moved=1 events_published=1
    expect_eq "$(count "$q-ev7")" 1 "7: then its event"
else
    echo "SKIP: 7: strace cannot delay fsync here"
fi

# --- 8. the exchange deleted under a running mover: 78, the message back ----------------------
topo deleted
R8=$WORK/r8 D8=$WORK/d8
mkdir -p "$R8" "$D8"
events_to "$ex-del" "$q-ev8" "$q.moved"
env AMQP_URL="$url" timeout 60 "$MOVE" --queue "$q" --exchange "$ex" --from "$R8" --to "$D8" \
    --idle-exit 6s --json --publish-moved "$ex-del" >"$WORK/m8.out" 2>"$WORK/m8.err" &
bg_pids=($!)
echo one >"$R8/one.txt"
scanq "$R8"
wait_until 20 "8: the first file moved" test -e "$D8/one.txt" || true
sleep 1
"$PY3" "$EV" delete-exchange "$url" "$ex-del"
echo two >"$R8/two.txt"
scanq "$R8"
wait_pid "${bg_pids[0]}" 30 "8: the mover"
bg_pids=()
cp "$WORK/m8.err" "$WORK/err"
expect_rc 78 "8: the events exchange deleted while moving"
expect_re err "^move: error: exchange '$ex-del' does not exist on " "8: said"
expect_eq "$(count "$q-ev8")" 1 "8: the first file's event"
expect_eq "$(count)" 1 "8: the second file's message is back on the queue"

# --- 6. bad values: 64 ------------------------------------------------------------------------
long=$(printf 'x%.0s' $(seq 256))
for bad in "" "/key" "x/" "$long" "x/$long" "$ex/$q"; do
    moveq --from "$R5" --to "$D5" --idle-exit 1s --publish-moved "$bad"
    expect_rc 64 "6: --publish-moved '${bad:0:20}'"
    expect_in err "Try 'move --help'." "6: --publish-moved '${bad:0:20}': usage hint"
done

finish
