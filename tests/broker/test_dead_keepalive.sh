#!/usr/bin/env bash
# Against the private broker: the mover's dead-letter connection lives as
# long as the mover. With a 1 s heartbeat, a mover that dead-letters a
# message, sits idle for 6 s, and dead-letters another must do so without
# losing a connection: the broker closes a connection that sends nothing
# for two heartbeats, and a dead letter refused that way used to bring the
# whole mover down to reconnect (every unacknowledged delivery back to the
# queue).
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
umask 022
. "$TESTS_DIR/broker/lib.sh"
q=deadka-$$
ex=deadka-ex-$$
declared=("$q")

R=$WORK/root D=$WORK/dest
mkdir -p "$R" "$D"
printf 'not json at all' >"$WORK/bad1"
printf '{"v":1}' >"$WORK/bad2"
run declare_topo
expect_rc 0 "scan declares the queues"

env AMQP_URL="$url" timeout 60 "$MOVE" --queue "$q" --exchange "$ex" --heartbeat 1s \
    --from "$R" --to "$D" --idle-exit 9s --json >"$WORK/mout" 2>"$WORK/merr" &
bg_pids=($!)
sleep 1
"$PY3" "$AMQP" publish "$url" "$ex" "$q" "$WORK/bad1"
sleep 6
"$PY3" "$AMQP" publish "$url" "$ex" "$q" "$WORK/bad2"
set +e
wait "${bg_pids[0]}"
rc=$?
set -e
bg_pids=()
cp "$WORK/mout" "$WORK/out"
cp "$WORK/merr" "$WORK/err"
expect_rc 1 "the mover (1: it dead-lettered)"
expect_in out '"dead_lettered":2' "both messages dead-lettered by the mover"
expect_not_in err "lost the connection" "no connection lost"
expect_not_in err "reconnect" "no reconnection"
expect_eq "$(count "$q.dead")" 2 "two dead letters queued"

finish
