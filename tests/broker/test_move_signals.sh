#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1 and docs/message-format.md):
# SIGTERM and SIGINT while idle, SIGTERM while busy: exit 0, every file in
# exactly one of ROOT and DEST, a message left for each file left.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

# --- SIGTERM and SIGINT while idle; SIGTERM while busy ----------------------------------
topo sig
R=$WORK/sig/root
D=$WORK/sig/dest
mkdir -p "$R" "$D"
# Background jobs of a script start with SIGINT ignored: dfl restores the
# default, then execs the command (so $! is the mover's pid).
dfl=("$PY3" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])')
for s in TERM INT; do
    "${dfl[@]}" env AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
        >"$WORK/out" 2>"$WORK/err" &
    mpid=$!
    bg_pids+=("$mpid")
    for _ in $(seq 100); do
        [ "$(consumers)" = 1 ] && break
        sleep 0.1
    done
    expect_eq "$(consumers)" 1 "SIG$s: the idle mover is consuming"
    sleep 0.3
    kill -"$s" "$mpid"
    wait_pid "$mpid" 5 "SIG$s: the idle mover"
    bg_pids=()
    expect_rc 0 "SIG$s while idle"
    expect_summary 0 0 0 0 0 "SIG$s while idle"
done

# Busy: every file ends up in exactly one of ROOT and DEST, and the queue
# still holds a message for each file left in ROOT.
topo sigbusy
R=$WORK/sigbusy/root
D=$WORK/sigbusy/dest
mkdir -p "$R" "$D"
"$PY3" "$PY" mktree "$R" 2000 3
"$PY3" "$PY" manifest "$R" >"$WORK/busy.before"
scanq "$R"
env AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" --json \
    >"$WORK/out" 2>"$WORK/err" &
mpid=$!
bg_pids+=("$mpid")
for _ in $(seq 100); do
    [ -n "$(find "$D" -type f -print -quit)" ] && break
    sleep 0.05
done
kill -TERM "$mpid"
wait_pid "$mpid" 10 "SIGTERM while busy: the mover"
bg_pids=()
expect_rc 0 "SIGTERM while busy"
left=$("$PY3" "$PY" files "$R" | wc -l)   # names with newlines: one line each
moved=$("$PY3" "$PY" jnum "$WORK/out" moved)
expect_eq "$moved" "$((2000 - left))" "SIGTERM while busy: the summary counts the files moved"
[ "$left" -gt 0 ] || echo "NOTE: SIGTERM while busy: the mover had finished already" >&2
"$PY3" "$PY" manifest "$R" >"$WORK/busy.r"
"$PY3" "$PY" manifest "$D" >"$WORK/busy.d"
checks=$((checks + 1))
LC_ALL=C sort "$WORK/busy.before" >"$WORK/busy.want"
LC_ALL=C sort "$WORK/busy.r" "$WORK/busy.d" >"$WORK/busy.got"
cmp -s "$WORK/busy.want" "$WORK/busy.got" ||
    fail "SIGTERM while busy: files lost or doubled: $(diff "$WORK/busy.want" "$WORK/busy.got" |
        head -5 | cut -c1-200)"
wait_count "$left"
expect_eq "$(count)" "$left" "SIGTERM while busy: one message left per file left"
moveq --from "$R" --to "$D" --idle-exit 1s
expect_rc 0 "SIGTERM while busy: the rest"
expect_summary "$left" 0 0 0 0 "SIGTERM while busy: the rest"
expect_manifest "$WORK/busy.before" "$D" "SIGTERM while busy: all at DEST in the end"

finish
