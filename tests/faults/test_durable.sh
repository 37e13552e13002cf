#!/usr/bin/env bash
# Confirmed means durable: the moment scan exits 0 after publishing 10,000
# files, the broker is killed (SIGKILL of its Erlang VM: no clean shutdown,
# nothing flushed on the way out) and started again; its quorum queue then
# holds exactly one message per file. And scan never exits 0 for messages
# that reached no queue (scan publishes with the mandatory flag): neither
# when its queue is deleted under it, nor when the binding of its routing
# key is gone; and a routing key other than that of the existing queue is
# refused (exit 78) with one sentence.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/faults/faults.sh"
unset SCANMOVE_JOBS

# ---- 10,000 confirmed messages survive a SIGKILL of the broker ------------------
q=fault-durable-$tag
ex=fault-durable-ex-$tag
declared+=("$q")
t=$WORK/tree
"$PY3" - "$t" <<'PYEOF'
import os, sys
for i in range(10000):
    d = os.path.join(sys.argv[1], "d%02d" % (i % 20))
    if i < 20:
        os.makedirs(d)
    with open(os.path.join(d, "f%05d" % i), "w") as f:
        f.write("%d\n" % i)
PYEOF
run env AMQP_URL="$url" timeout 300 "$SCAN" --queue "$q" --exchange "$ex" --no-mime --json "$t"
# At once, checks later: no time for the broker to write anything it had
# not written before confirming.
"$BROKER_SH" kill || fail "broker.sh kill"
expect_rc 0 "scan of 10000 files"
expect_eq "$(summary published)" 10000 "published (confirmed) messages"
checks=$((checks + 1))
"$BROKER_SH" status >/dev/null 2>&1 && fail "the broker still answers after broker.sh kill"
url2=$("$BROKER_SH" start) || fail "broker.sh start after the kill"
expect_eq "$url2" "$url" "the broker comes back on the same URL"
# A quorum queue answers once its Raft member has recovered its log, a
# moment after the broker accepts connections: poll.
queue_filled() {
    n=$(qcount "$q")
    [ -n "$n" ] && [ "$n" -ge 10000 ]
}
wait_for 90 queue_filled || true
sleep 1 # anything beyond 10000 shows up too
expect_eq "$(qcount "$q")" 10000 "messages in the queue after SIGKILL and restart"
# Exactly the files, each once (not 10000 messages of which some twice).
expect_eq "$("$PY3" "$AMQP" drain "$url" "$q" 20000 "$WORK/bodies" "$WORK/props")" 10000 \
    "messages taken off the queue"
checks=$((checks + 1))
find "$t" -type f -printf '%P\n' | sort >"$WORK/want"
"$PY3" "$PY" paths "$WORK/bodies" | sort >"$WORK/got"
cmp -s "$WORK/want" "$WORK/got" ||
    fail "the queue does not hold each file exactly once: $(diff "$WORK/want" "$WORK/got" | head -5)"

# ---- unroutable: scan never exits 0 -----------------------------------------------
# scan declares its queue and binds it with its routing key itself, on every
# connection: deleting the queue or the binding before scan starts changes
# nothing. Both must happen after scan's declarations and before its
# publishes reach the broker. A disk alarm pins that moment down without a
# race: scan connects and declares (allowed during an alarm), publishes, and
# the broker stops reading from its connection (state "blocked"); the queue
# or the binding is removed then, and the alarm cleared: every publish
# still in the socket reaches the exchange with no queue to route to.
mkdir "$WORK/small"
for i in $(seq 300); do echo "$i" >"$WORK/small/f$i"; done

# unroutable_run WHAT ACTION ARGS... : scan $WORK/small into $q via $ex with
# ARGS, doing ACTION while the broker blocks scan's connection.
unroutable_run() {
    local what=$1 action=$2
    shift 2
    alarm_on || fail "$what: the disk alarm did not go on within 30 s: $(alarms)"
    bg_start env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" --no-mime --json \
        --rejects "$WORK/rej" "$@" "$WORK/small"
    wait_for 60 connection_blocked ||
        fail "$what: the broker did not block scan's connection within 60 s: $(ctl list_connections name state 2>&1 | tail -n +2)"
    ctl list_bindings source_name destination_name routing_key -q >"$WORK/bindings" 2>&1 || true
    $action
    alarm_off || fail "$what: the disk alarm did not clear within 30 s: $(alarms)"
    bg_wait 120
}

# check_unroutable WHAT : the last unroutable_run failed the files that
# found no queue as unroutable, and only those, and exited 1.
check_unroutable() {
    local what=$1 published unroutable
    expect_rc 1 "$what: scan exits 1 (some entries failed), $bg_how"
    published=$(summary published)
    unroutable=$("$PY3" -c 'import json, sys; print(json.loads(sys.argv[1]).get("unroutable", 0))' \
        "$(summary failed_by_reason)" 2>/dev/null || echo 0)
    checks=$((checks + 1))
    [ "$unroutable" -gt 0 ] || fail "$what: no file failed unroutable: $(summary failed_by_reason)"
    expect_eq "$(summary failed)" "$unroutable" "$what: unroutable is the only failure"
    case "$published" in
        *[!0-9]* | '') fail "$what: no --json summary: $published" ;;
        *) expect_eq "$((published + unroutable))" 300 "$what: every file published or unroutable" ;;
    esac
    expect_eq "$(grep -c '"reason":"unroutable"' "$WORK/rej" || true)" "$unroutable" \
        "$what: one --rejects line per unroutable file"
    expect_in err '"reason":"unroutable"' "$what: scan says why on stderr"
    expect_re err "^scan: notice: 300 files: $published published, 0 rejected, $unroutable failed in " \
        "$what: summary line"
}

# With the queue deleted (the exchange stays): nothing to route to.
q=fault-unroutable-$tag
ex=fault-unroutable-ex-$tag
declared+=("$q")
delete_queue() { "$PY3" "$AMQP" delete "$url" "$q" >/dev/null || fail "amqp_tool.py delete $q"; }
unroutable_run "queue deleted" delete_queue
checks=$((checks + 1))
grep -qP "^\Q$ex\E\t\Q$q\E\t\Q$q\E$" "$WORK/bindings" ||
    fail "queue deleted: scan had not bound $q to $ex before it was blocked: $(cat "$WORK/bindings")"
check_unroutable "queue deleted"
checks=$((checks + 1))
ctl list_exchanges name -q | grep -qxF "$ex" || fail "queue deleted: the exchange $ex is gone"

# With a routing key that differs from the binding. The queue's settings
# include the key (x-dead-letter-routing-key), so scan cannot take an
# existing queue with another key: it refuses to start, exit 78, with one
# sentence saying which setting differs.
q=fault-wrongkey-$tag
ex=fault-wrongkey-ex-$tag
declared+=("$q")
run declare_topo --routing-key "files-$tag"
expect_rc 0 "wrong key: scan declares the queue, bound by files-$tag"
run env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" --routing-key "other-$tag" --json \
    "$WORK/small"
expect_rc 78 "wrong key: scan with another key than the existing queue's"
expect_lines err 1 "wrong key: one sentence on stderr"
expect_re err "^scan: error: queue '$q' exists with other settings .*'other-$tag'.*'files-$tag'" \
    "wrong key: the sentence names the queue and both keys"
expect_eq "$(qcount "$q")" 0 "wrong key: nothing published"

# A binding removed under scan: scan binds a new queue by its key itself,
# so the binding is removed after that, while the broker blocks scan, and
# the alarm cleared: no queue is bound by scan's key any more.
q=fault-unbound-$tag
ex=fault-unbound-ex-$tag
declared+=("$q")
unbind_key() {
    "$PY3" "$AMQP" unbind "$url" "$q" "$ex" "other-$tag" || fail "unbind other-$tag"
}
unroutable_run "binding removed" unbind_key --routing-key "other-$tag"
checks=$((checks + 1))
grep -qP "^\Q$ex\E\t\Q$q\E\tother-$tag$" "$WORK/bindings" ||
    fail "binding removed: scan had not bound $q by other-$tag before it was blocked: $(cat "$WORK/bindings")"
check_unroutable "binding removed"
expect_eq "$(qcount "$q")" "$(summary published)" \
    "binding removed: the queue holds the published messages only"

finish
