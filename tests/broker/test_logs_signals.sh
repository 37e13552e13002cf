#!/usr/bin/env bash
# Against the private broker (docs/move.1: LOGS, SIGNALS): a running mover
# logs JSON lines with its events' fields to --log-file; SIGUSR1 prints one
# status line (even under -q) and SIGHUP reopens the log file, and neither
# stops the mover; move --dead into a closed pipe ends with exit 74 and one
# sentence, the letters kept.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

# --- JSON lines in --log-file; SIGUSR1; SIGHUP after logrotate's mv -----------------------
topo logs
R=$WORK/logs/root
D=$WORK/logs/dest
L=$WORK/logs/move.log
mkdir -p "$R" "$D"
echo one >"$R/one.txt"
scanq "$R"
env AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" -v \
    --log-format json --log-file "$L" >"$WORK/mv.out" 2>"$WORK/mv.err" &
mpid=$!
bg_pids+=("$mpid")
wait_until 20 "json: the first file moved" test -e "$D/one.txt"
wait_until 5 "json: its line" grep -qs '"event":"moved"' "$L"
jlines "$L" "connected:level=info,tool=move,pid=$mpid" \
    "moved:level=info,root=$R,path=one.txt,id=,reason!"
kill -USR1 "$mpid"
wait_until 5 "SIGUSR1: a status line" grep -qs '"event":"status"' "$L"
jlines "$L" "status:level=notice"
expect_eq "$(grep -c '"event":"status"' "$L")" 1 "SIGUSR1: one status line"
checks=$((checks + 1))
grep '"event":"status"' "$L" | grep -Eq '"message":"1 moved, 0 duplicates, 0 skipped, 0 dead-lettered, 0 requeued in [0-9]+ s \([0-9]+ files/s\); broker amqp://' ||
    fail "SIGUSR1: the status line's counts, rate and broker: $(grep '"event":"status"' "$L")"
mv "$L" "$L.1"
kill -HUP "$mpid"
sleep 1
printf 'not json' >"$WORK/bad"
publish "$WORK/bad"
echo two >"$R/two.txt"
scanq "$R"
wait_until 20 "SIGHUP: the mover goes on" test -e "$D/two.txt"
wait_until 5 "SIGHUP: a new log file" grep -qs '"event":"dead-lettered"' "$L"
jlines "$L" "moved:path=two.txt" "dead-lettered:level=error,reason=malformed-json,path!"
checks=$((checks + 1))
grep -q 'two.txt' "$L.1" && fail "SIGHUP: still writing to the old file"
expect_eq "$(consumers)" 1 "SIGUSR1 and SIGHUP: the mover still consumes"
kill -TERM "$mpid"
wait_pid "$mpid" 10 "the mover"
bg_pids=()
expect_rc 1 "the mover, ended by SIGTERM (1: it dead-lettered a message)"
expect_eq "$(cat "$WORK/mv.err")" "" "--log-file: nothing on stderr"
jlines "$L" "summary:level=notice"

# --- SIGUSR1 under -q: the status line all the same ---------------------------------------
env AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" -q \
    >"$WORK/out" 2>"$WORK/err" &
mpid=$!
bg_pids+=("$mpid")
wait_until 20 "-q: the mover consumes" test "$(consumers)" = 1
kill -USR1 "$mpid"
wait_until 5 "-q: SIGUSR1 gives a status line" grep -q 'files/s' "$WORK/err"
kill -HUP "$mpid"
sleep 1
expect_eq "$(consumers)" 1 "-q: SIGHUP does not stop the mover"
kill -TERM "$mpid"
wait_pid "$mpid" 10 "-q: the mover"
bg_pids=()
expect_rc 0 "-q: the mover, ended by SIGTERM"
expect_lines err 1 "-q: only the status line"
expect_re err '^move: notice: 0 moved, 0 duplicates, 0 skipped, 0 dead-lettered, 0 requeued in [0-9]+ s \([0-9]+ files/s\); broker amqp://' \
    "-q: the status line"

# --- move --dead into a closed pipe: exit 74, one sentence, the letters kept ---------------
publish "$WORK/bad" "$WORK/bad"
moveq --from "$R" --to "$D" --idle-exit 1s -q
expect_eq "$(settled "$q.dead" 3)" 3 "three dead letters"
set +e
env AMQP_URL="$url" timeout 60 "$MOVE" --queue "$q" --exchange "$ex" --dead 2>"$WORK/err" |
    (exec 0<&-)
rc=${PIPESTATUS[0]}
set -e
expect_rc 74 "--dead into a closed pipe"
expect_eq "$(grep -v '^move: notice: listed ' "$WORK/err")" \
    "move: error: cannot write to standard output: Broken pipe" "--dead into a closed pipe: one sentence"
expect_eq "$(settled "$q.dead" 3)" 3 "--dead into a closed pipe: the letters kept"

finish
