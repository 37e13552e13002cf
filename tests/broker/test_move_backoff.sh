#!/usr/bin/env bash
# The mover's reconnection backoff (1 s doubling to 5 s, jittered by up to
# 20%) never naps past --reconnect-timeout, and finds a broker that is back
# within one capped wait:
#   1. --reconnect-timeout 10s against a port nothing listens on: exit 69
#      after 10 s, give or take a little (attempts at about 1, 3, 7 and 10 s;
#      a backoff that naps past the deadline exits after 15 s);
#   2. a mover started while nothing listens on its port (no
#      --reconnect-timeout) connects within 6 s + slack of the port being
#      opened 17 s later: a relay to the private broker appears on it. A
#      backoff capped at 30 s (attempts at about 1, 3, 7, 15 and 31 s) takes
#      14 s.
# Timing is measured with generous slack for a loaded 2-core machine: the
# old behaviour misses each bound by several seconds.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/lib.sh"
unset SCANMOVE_JOBS
FAKE=$TESTS_DIR/fake_server.py

broker_port=${url##*:}
broker_port=${broker_port%%/*}
q=backoff-$tag
ex=backoff-ex-$tag
declared=("$q")

# wait_exit PID SECS : wait up to SECS for PID; its status in $rc (killed: 137).
wait_exit() {
    local end=$(($(now_ms) + $2 * 1000))
    while kill -0 "$1" 2>/dev/null && [ "$(now_ms)" -lt "$end" ]; do
        sleep 0.05
    done
    kill -KILL "$1" 2>/dev/null || true
    set +e
    wait "$1"
    rc=$?
    set -e
}

mkdir "$WORK/from" "$WORK/to"

# --- 1. --reconnect-timeout 10s: no nap past the deadline -------------------------------
port=$(free_port)
t0=$(now_ms)
env AMQP_URL="amqp://guest:guest@127.0.0.1:$port/%2F" "$MOVE" --queue "$q" --exchange "$ex" \
    --from "$WORK/from" --to "$WORK/to" --reconnect-timeout 10s >"$WORK/out" 2>"$WORK/err" &
pid=$!
bg_pids+=("$pid")
wait_exit "$pid" 40
el=$(($(now_ms) - t0))
expect_rc 69 "unreachable, --reconnect-timeout 10s"
checks=$((checks + 1))
[ "$el" -ge 9500 ] && [ "$el" -le 12500 ] ||
    fail "unreachable, --reconnect-timeout 10s: exited after $el ms, expected 10 s (+ 2.5 s slack)"
expect_re err "^move: error: cannot connect to amqp://guest@127.0.0.1:$port/.*: connection refused$" \
    "unreachable: the last line names the broker and the reason"
# Every wait is within the cap (jitter included), the longest 6 s.
checks=$((checks + 1))
if grep -Eo 'trying again in [0-9]+ s$' "$WORK/err" | grep -Eqv 'in [0-6] s$'; then
    fail "unreachable: a wait longer than 6 s: $(grep -E 'trying again' "$WORK/err" | cut -c1-200)"
fi
echo "1. exit $rc after $el ms; waits: $(grep -Eo 'in [0-9]+ s$' "$WORK/err" | tr '\n' ' ')"

# --- 2. the broker's port opens 17 s after the mover started ----------------------------
port=$(free_port)
amqp_url="amqp://guest:guest@127.0.0.1:$port/%2F"
t0=$(now_ms)
env AMQP_URL="$amqp_url" "$MOVE" --queue "$q" --exchange "$ex" --from "$WORK/from" \
    --to "$WORK/to" --idle-exit 2s --reconnect-timeout 2m >"$WORK/out" 2>"$WORK/err" &
pid=$!
bg_pids+=("$pid")
while [ "$(now_ms)" -lt $((t0 + 17000)) ]; do
    sleep 0.1
done
"$PY3" "$FAKE" --port "$port" "$WORK/relay.port" forward "$broker_port" &
bg_pids+=("$!")
while [ ! -s "$WORK/relay.port" ] && [ "$(now_ms)" -lt $((t0 + 27000)) ]; do
    sleep 0.02
done
t1=$(now_ms)
checks=$((checks + 1))
[ -s "$WORK/relay.port" ] || fail "resume: the relay did not start"
back=
while kill -0 "$pid" 2>/dev/null && [ "$(now_ms)" -lt $((t1 + 40000)) ]; do
    if [ -z "$back" ] && grep -q '^move: warning: reconnected to ' "$WORK/err"; then
        back=$(($(now_ms) - t1))
    fi
    sleep 0.05
done
[ -n "$back" ] || ! grep -q '^move: warning: reconnected to ' "$WORK/err" || back=$(($(now_ms) - t1))
wait_exit "$pid" 30
expect_rc 0 "resume: the mover ends by --idle-exit once connected"
expect_in err "reconnected to amqp://guest@127.0.0.1:$port/" "resume: the mover connects"
checks=$((checks + 1))
[ -n "$back" ] && [ "$back" -le 9000 ] ||
    fail "resume: connected ${back:-never} ms after the port opened, expected within 6 s (+ 3 s slack)"
echo "2. port opened $((t1 - t0)) ms after the start, connected $back ms later"

finish
