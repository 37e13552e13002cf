#!/usr/bin/env bash
# Against the private broker, reached directly and through relays of
# tests/fake_server.py that stand for other nodes (issue 12, "several
# brokers"):
#   1. --check looks at every broker of the list, says what each one is,
#      and exits 69 when one cannot be reached; --json has a "nodes" array.
#   2. A dead node first in the list costs its connect timeout only (the
#      URL's connection_timeout overrides --connect-timeout), then the
#      next one is used and named once.
#   3. A node that refuses the password is passed over; only when every
#      node refuses is it final: exit 77, one sentence naming each.
#   4. When the node a mover is on dies, it goes on through the next node
#      at once, not waiting for the dead one; the connection is named
#      move@HOST:PID on the broker.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"
FAKE=$TESTS_DIR/fake_server.py
broker_port=${url##*:}
broker_port=${broker_port%%/*}
good="amqp://guest@127.0.0.1:$broker_port/%2F" # the password "guest" by default: none in argv
shown="amqp://guest@127.0.0.1:$broker_port/"
closed=$(free_port)
dead="amqp://guest@127.0.0.1:$closed/"

# serve NAME MODE ARGS... : start a fake server; its port in $WORK/NAME.port, its pid in $WORK/NAME.pid.
serve() {
    local name=$1 i
    shift
    "$PY3" "$FAKE" "$WORK/$name.port" "$@" 2>"$WORK/$name.log" &
    echo $! >"$WORK/$name.pid"
    bg_pids+=("$!")
    for i in $(seq 100); do
        [ -s "$WORK/$name.port" ] && return 0
        sleep 0.05
    done
    fail "fake server $name did not start: $(cat "$WORK/$name.log")"
    finish
}
port() { cat "$WORK/$1.port"; }

# jget FILE EXPR : a Python expression over the JSON object o in FILE.
jget() { "$PY3" -c 'import json,sys; o=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

topo list
declare_topo >/dev/null

# --- 1. --check, node by node --------------------------------------------------------
run "$MOVE" --check --queue "$q" --exchange "$ex" --url-order ordered --url "$dead" --url "$good"
expect_rc 69 "check: one node of two down"
expect_lines out 3 "check: a line per node, then the queue's"
expect_re out "^amqp://guest@127.0.0.1:$closed/: unreachable: connection refused$" "check: the dead node"
expect_re out "^$shown: reachable \\(127.0.0.1:$broker_port, RabbitMQ [0-9.]+, cluster [^)]+\\)$" \
    "check: the live node, its address, version and cluster"
expect_re out "^queue '$q' \\(quorum\\) has 0 messages and 0 consumers; '$q.dead' has 0 messages$" \
    "check: the queue, through the live node"
expect_lines err 1 "check: one sentence on stderr"
expect_in err "move: error: 1 of 2 brokers failed the check; amqp://guest@127.0.0.1:$closed/: connection refused" \
    "check: says which failed"
run "$SCAN" --check --json --queue "$q" --exchange "$ex" --url-order ordered --url "$dead" --url "$good"
expect_rc 69 "check --json: one node of two down"
expect_eq "$(jget "$WORK/out" '[n["state"] for n in o["nodes"]]')" "['unreachable', 'reachable']" \
    "check --json: the state of each node"
expect_eq "$(jget "$WORK/out" 'o["nodes"][1]["address"], o["messages"], o["broker"]')" \
    "('127.0.0.1:$broker_port', 0, '$shown')" "check --json: the live node's address, the counts"
run "$MOVE" --check --queue "$q" --exchange "$ex" --url "$good" --url "$good"
expect_rc 0 "check: every node up"

# --- 2. a dead node first: its own timeout, then the next ---------------------------
serve silent silent
mkdir -p "$WORK/from/d" "$WORK/to"
for i in 1 2 3; do echo "$i" >"$WORK/from/d/f$i"; done
run env AMQP_URL="amqp://guest@127.0.0.1:$(port silent)/?connection_timeout=300 $good" \
    "$SCAN" --queue "$q" --exchange "$ex" --no-mime --url-order ordered --connect-timeout 20s \
    "$WORK/from"
expect_rc 0 "silent first: scan through the next node"
t0=$(now_ms)
moveq --url-order ordered --connect-timeout 20s --from "$WORK/from" --to "$WORK/to" --idle-exit 1s \
    --url "amqp://guest@127.0.0.1:$(port silent)/?connection_timeout=300" --url "$good"
el=$(($(now_ms) - t0))
expect_rc 0 "silent first: move through the next node"
expect_eq "$(nfiles "$WORK/to")" 3 "silent first: the files moved"
expect_re err "^move: notice: connected to $shown \\(127.0.0.1:$broker_port, RabbitMQ " \
    "silent first: the node used is named"
expect_eq "$(grep -c 'connected to' "$WORK/err")" 1 "silent first: named once"
checks=$((checks + 1))
[ "$el" -lt 8000 ] || fail "silent first: took $el ms; connection_timeout=300 should bound the dead node"

# --- 3. refused by one node, accepted by the next; refused by all: 77 ----------------
for i in 4 5; do echo "$i" >"$WORK/from/d/f$i"; done
scanq --url-order ordered --url "amqp://guest:wrong@127.0.0.1:$broker_port/" --url "$good" "$WORK/from"
moveq --url-order ordered --from "$WORK/from" --to "$WORK/to" --idle-exit 1s \
    --url "amqp://nobody:pw@127.0.0.1:$broker_port/" --url "$good"
expect_rc 0 "refused by one: move through the next"
expect_eq "$(nfiles "$WORK/to")" 5 "refused by one: the files moved"
run env AMQP_URL="amqp://nobody:pw@127.0.0.1:$broker_port/ amqp://guest:wrong@127.0.0.1:$broker_port/" \
    "$MOVE" --queue "$q" --exchange "$ex" --url-order ordered --from "$WORK/from" --to "$WORK/to" \
    --idle-exit 1s
expect_rc 77 "refused by all: exit 77"
expect_eq "$(grep -c 'no broker' "$WORK/err")" 1 "refused by all: said once"
expect_re err "^move: error: no broker of 2 accepted the connection: .*authentication failed for user 'nobody'.*; .*authentication failed for user 'guest'" \
    "refused by all: says each"
expect_not_in err "wrong" "refused by all: no password"

# --- 4. the node a mover is on dies: on through the next at once ---------------------
serve a forward "$broker_port"
serve b forward "$broker_port"
rm -rf "$WORK/to2"
mkdir -p "$WORK/to2"
for i in $(seq 6 15); do echo "$i" >"$WORK/from/d/f$i"; done
env "$MOVE" --queue "$q" --exchange "$ex" --url-order ordered --from "$WORK/from" --to "$WORK/to2" \
    --idle-exit 6s --reconnect-timeout 20s \
    --url "amqp://guest@127.0.0.1:$(port a)/" --url "amqp://guest@127.0.0.1:$(port b)/" \
    >"$WORK/mv.out" 2>"$WORK/mv.err" &
mover=$!
bg_pids+=("$mover")
for i in $(seq 200); do
    grep -q "connected to amqp://guest@127.0.0.1:$(port a)/" "$WORK/mv.err" && break
    sleep 0.05
done
expect_re mv.err "^move: notice: connected to amqp://guest@127.0.0.1:$(port a)/ " "loss: on the first node"
host=$(hostname)
checks=$((checks + 1))
ctl list_connections client_properties 2>/dev/null | grep -qF "move@$host:$mover" ||
    fail "loss: no connection named move@$host:$mover on the broker"
t0=$(now_ms)
kill -9 "$(cat "$WORK/a.pid")"
for i in $(seq 100); do
    grep -q "reconnected to" "$WORK/mv.err" && break
    sleep 0.05
done
el=$(($(now_ms) - t0))
expect_re mv.err "^move: warning: reconnected to amqp://guest@127.0.0.1:$(port b)/ \\(127.0.0.1:$(port b), " \
    "loss: on through the next node"
checks=$((checks + 1))
[ "$el" -lt 3000 ] || fail "loss: reconnected after $el ms; the next node should be tried at once"
scanq --url "$good" "$WORK/from"
wait_pid "$mover" 60 "the mover"
expect_rc 0 "loss: the mover finishes"
expect_eq "$(nfiles "$WORK/to2")" 10 "loss: the files queued after the failover moved"
expect_eq "$(count)" 0 "the queue is empty"

finish
