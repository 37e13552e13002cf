#!/usr/bin/env bash
# A mover run from cron must not pile up while the broker is down: it says
# once, even with -q, that it waits for the broker, and --idle-exit also
# bounds that wait when no --reconnect-timeout is given (docs/move.1). Before
# issue 11, `move -q --idle-exit 2s` against a broker that was down printed
# nothing and ran forever. No broker is needed: the URL names a closed port.
. "$(dirname "$0")/../lib.sh"

port=$(free_port)
NOBROKER=(--url "amqp://127.0.0.1:$port/")
mkdir "$WORK/from" "$WORK/to"

# timed WHAT LIMIT_MS ARGS... : run move ARGS... (killed after 30 s); fail
# when it took more than LIMIT_MS; its time in $el.
timed() {
    local what=$1 limit=$2 t0
    shift 2
    t0=$(now_ms)
    run timeout 30 "$MOVE" "${NOBROKER[@]}" --from "$WORK/from" --to "$WORK/to" "$@"
    el=$(($(now_ms) - t0))
    checks=$((checks + 1))
    [ "$el" -le "$limit" ] || fail "$what: exited after $el ms, expected at most $limit ms"
}

waiting="move: error: cannot connect to amqp://guest@127.0.0.1:$port/: connection refused; trying again in 1 s"
timed "-q --idle-exit 2s" 4500 -q --idle-exit 2s
expect_rc 69 "-q --idle-exit 2s: gives up on the broker"
expect_eq "$(head -n 1 "$WORK/err")" "$waiting" "-q --idle-exit 2s: says it waits, once"
expect_eq "$(sed -n 2p "$WORK/err")" "move: error: cannot connect to amqp://guest@127.0.0.1:$port/: connection refused" \
    "-q --idle-exit 2s: then why it gave up"
expect_lines err 2 "-q --idle-exit 2s: two lines"
expect_lines out 0 "-q --idle-exit 2s: nothing on stdout"
checks=$((checks + 1))
[ "$el" -ge 1800 ] || fail "-q --idle-exit 2s: gave up after $el ms, before the 2 s"

# Without -q, each wait is said, as before; the bound is the same.
timed "--idle-exit 3s" 5500 --idle-exit 3s --json
expect_rc 69 "--idle-exit 3s: gives up on the broker"
expect_eq "$(head -n 1 "$WORK/err")" "$waiting" "--idle-exit 3s: the first wait"
expect_re err "^move: error: cannot connect to .*; trying again in [0-9]+ s$" "--idle-exit 3s: waits said"
checks=$((checks + 1))
n=$(grep -c "trying again in" "$WORK/err")
[ "$n" -ge 2 ] || fail "--idle-exit 3s: $n waits said, expected each of them (2 or more)"

# An explicit --reconnect-timeout wins over --idle-exit, either way.
timed "--idle-exit 1s --reconnect-timeout 3s" 5500 -q --idle-exit 1s --reconnect-timeout 3s
expect_rc 69 "--idle-exit 1s --reconnect-timeout 3s"
checks=$((checks + 1))
[ "$el" -ge 2800 ] || fail "--reconnect-timeout 3s: gave up after $el ms, before the 3 s"
expect_lines err 2 "--idle-exit 1s --reconnect-timeout 3s -q: two lines"
"$MOVE" "${NOBROKER[@]}" --from "$WORK/from" --to "$WORK/to" -q --idle-exit 2s \
    --reconnect-timeout 0 >"$WORK/w.out" 2>"$WORK/w.err" &
wpid=$!
trap 'kill -KILL "$wpid" 2>/dev/null || true; rm -rf "$WORK"' EXIT
sleep 4.5
checks=$((checks + 1))
if kill -0 "$wpid" 2>/dev/null; then
    kill -TERM "$wpid" # stops it at its next wait
else
    fail "--reconnect-timeout 0 (keep trying) with --idle-exit 2s: gave up within 4.5 s"
fi
set +e
wait "$wpid"
rc=$?
set -e
expect_rc 0 "--reconnect-timeout 0, stopped by SIGTERM while waiting"
expect_eq "$(cat "$WORK/w.err")" "$waiting" "--reconnect-timeout 0 -q: says it waits, once"

finish
