#!/usr/bin/env bash
# Against the private broker: both tools connect, declare the topology
# idempotently, agree on it, and report mismatches and refusals with one
# sentence and the documented exit status. --check looks without creating
# (tests/broker/test_check.sh): scan declares the topology here.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/lib.sh"
port=${url##*:}
port=${port%%/*}
q="topo-$$"
ex="topo-ex-$$"
declared=("$q" "$q-c")

# Declaring twice is idempotent, and both tools find the same topology.
run declare_topo
expect_rc 0 "scan declares the topology"
run declare_topo
expect_rc 0 "scan declares the topology a second time"
run env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex"
expect_rc 0 "scan --check finds the topology"
expect_in out "queue '$q' (quorum) has 0 messages and 0 consumers; '$q.dead' has 0 messages" \
    "scan --check reports the queue"
expect_in out "RabbitMQ" "scan --check names the broker"
expect_lines out 1 "scan --check prints one line"
run env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex"
expect_rc 0 "scan --check a second time"
run env AMQP_URL="$url" "$MOVE" --check --queue "$q" --exchange "$ex"
expect_rc 0 "move --check finds the same topology"

# What the broker holds is what the documentation says.
"$BROKER_SH" ctl list_queues name type durable arguments --no-table-headers --quiet \
    >"$WORK/out" 2>"$WORK/err" || fail "rabbitmqctl list_queues"
expect_in out "$q	quorum	true" "main queue is a durable quorum queue"
expect_in out "$q.dead	quorum	true" "dead-letter queue is a durable quorum queue"
expect_in out "{\"x-delivery-limit\",5}" "delivery limit set"
expect_in out "{\"x-dead-letter-exchange\",\"$ex.dlx\"}" "dead-letter exchange set"
expect_in out "{\"x-dead-letter-strategy\",\"at-least-once\"}" "at-least-once dead-lettering"
"$BROKER_SH" ctl list_bindings source_name destination_name routing_key --no-table-headers \
    --quiet >"$WORK/out" 2>"$WORK/err" || fail "rabbitmqctl list_bindings"
expect_in out "$ex	$q	$q" "queue bound to the exchange by the routing key, the queue's name"
expect_in out "$ex.dlx	$q.dead	$q" "dead-letter queue bound to the dead-letter exchange"

# A message published to the exchange reaches the queue; one rejected
# without requeue reaches the dead-letter queue.
printf '{"v":1}' >"$WORK/v1"
"$PY3" "$AMQP" publish "$url" "$ex" "$q" "$WORK/v1" || fail "amqp_tool.py publish"
run env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex"
expect_in out "has 1 messages" "published message is in the queue"
[ "$("$PY3" "$AMQP" get "$url" "$q" 1 "$WORK/got")" = 1 ] ||
    fail "amqp_tool.py get" # takes it off the queue
run env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex"
expect_in out "has 0 messages" "message consumed"

# Mismatch: the queue exists as quorum, asked as classic -> 78 and the reason.
run env AMQP_URL="$url" "$MOVE" --check --queue "$q" --exchange "$ex" --queue-type classic
expect_rc 78 "queue type mismatch"
expect_in err "move: error: queue '$q' exists with other settings" "queue type mismatch sentence"
expect_in err "inequivalent arg" "queue type mismatch gives the broker's reason"
expect_in err "declare it as it was made (--queue-type, --delivery-limit) or delete it" \
    "queue type mismatch says what to do"
expect_lines err 1 "queue type mismatch is one line"
run env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex" --delivery-limit 9
expect_rc 78 "delivery limit mismatch"
expect_in err "x-delivery-limit" "delivery limit mismatch names the argument"

# A classic topology side by side works too.
run env AMQP_URL="$url" "$SCAN" -q --queue "$q-c" --exchange "$ex" --queue-type classic \
    "$WORK/declare-topo-empty"
expect_rc 0 "classic queue declared"
run env AMQP_URL="$url" "$SCAN" --check --queue "$q-c" --exchange "$ex" --queue-type classic
expect_rc 0 "classic queue"
expect_in out "queue '$q-c' (classic)" "classic queue reported"

# Wrong password -> 77, the password never shown.
run "$SCAN" --check --url-file <(printf 'amqp://guest:wrong-hunter2@127.0.0.1:%s/\n' "$port")
expect_rc 77 "wrong password"
expect_in err "scan: error: authentication failed for user 'guest' at amqp://guest@127.0.0.1:$port/" \
    "wrong password sentence"
expect_not_in err "hunter2" "wrong password not shown"
expect_lines err 1 "wrong password is one line"
run env AMQP_URL="amqp://nobody:x@127.0.0.1:$port/" "$MOVE" --check
expect_rc 77 "unknown user"

# A vhost that does not exist -> 77 with the vhost named.
run env AMQP_URL="amqp://guest:guest@127.0.0.1:$port/no-such-vhost" "$SCAN" --check
expect_rc 77 "unknown vhost"
expect_in err "access to vhost 'no-such-vhost' refused for user 'guest'" "unknown vhost sentence"
expect_lines err 1 "unknown vhost is one line"

# A user without permissions on the vhost -> 77.
"$BROKER_SH" ctl add_user "noperm$$" "pw$$" >/dev/null 2>&1 || fail "add_user"
run env AMQP_URL="amqp://noperm$$:pw$$@127.0.0.1:$port/" "$SCAN" --check
expect_rc 77 "user without vhost permissions"
"$BROKER_SH" ctl delete_user "noperm$$" >/dev/null 2>&1 || true

finish
