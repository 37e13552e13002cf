#!/usr/bin/env bash
# Against the private broker: --check only looks (issue 11, "no silent
# topology").
#   1. A queue or exchange that does not exist (a typo) is reported as such,
#      exit 78, by both tools, and --check creates nothing: no queue, no
#      .dead queue, no exchange, no binding.
#   2. The routing key defaults to the queue's name: a scan into one queue
#      puts nothing into another queue of the same exchange, and the
#      default queue "files" keeps the key "files".
#      A queue an older version made under the key "files" is refused with
#      a sentence saying what to do.
#   3. --check --json prints one JSON object on stdout, counts right, from
#      both tools; a failure gives the object with "error" and the same
#      exit status, and the sentence on stderr.
#   4. The age of the oldest waiting message (issue 13): on a classic queue
#      it is read from the head's timestamp without changing the queue's
#      order; on a quorum queue of RabbitMQ before 4.3, where a look at the
#      head would count as a delivery, it is null with the reason, and the
#      head's delivery count stays untouched.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/lib.sh"
port=${url##*:}
port=${port%%/*}
broker="amqp://guest@127.0.0.1:$port/"
q="check-$tag"
ex="check-ex-$tag"
declared=("$q" "$q-fiels" "$q-other" "$q-old" "$q-classic")

# queues : the names of the queues on the broker, one a line.
queues() { ctl list_queues name --no-table-headers --quiet 2>/dev/null; }

# exchanges : the names of the exchanges on the broker, one a line.
exchanges() { ctl list_exchanges name --no-table-headers --quiet 2>/dev/null; }

# has_line LIST NAME : LIST (a command) prints NAME as one of its lines.
has_line() { "$1" | grep -qxF -- "$2"; }

# jcheck WHAT KEY=JSON... : $WORK/out is one line, one JSON object with
# each KEY equal to the JSON value given, and every key of the report.
jcheck() {
    local what=$1 msg
    shift
    checks=$((checks + 1))
    if ! msg=$("$PY3" - "$WORK/out" "$@" 2>&1 <<'PYEOF'
import json, sys
text = open(sys.argv[1]).read()
if text.count("\n") != 1 or not text.endswith("\n"):
    sys.exit("not one line: %r" % text[:300])
try:
    o = json.loads(text)
except ValueError as e:
    sys.exit("not JSON (%s): %r" % (e, text[:300]))
keys = ["broker", "server_version", "exchange", "queue", "queue_type", "routing_key",
        "messages", "consumers", "dead_letter_queue", "dead_letter_messages",
        "dead_letter_consumers", "oldest_message_age_seconds"]
missing = [k for k in keys if k not in o]
if missing:
    sys.exit("keys %s missing: %s" % (missing, text))
for pair in sys.argv[2:]:
    k, v = pair.split("=", 1)
    if k.endswith("~"):
        k = k[:-1]
        if not isinstance(o.get(k), str) or not o[k].startswith(json.loads(v)):
            sys.exit("%s is %r, expected it to start with %s: %s" % (k, o.get(k), v, text))
    elif k.endswith("!"):
        if k[:-1] in o:
            sys.exit("%s present: %s" % (k[:-1], text))
    elif o.get(k, "absent") != json.loads(v):
        sys.exit("%s is %r, expected %s: %s" % (k, o.get(k, "absent"), v, text))
PYEOF
    ); then
        fail "$what: $msg"
    fi
}

# ---- 1. a typo'd --queue or --exchange: reported missing, nothing created ----------
run declare_topo
expect_rc 0 "scan declares $q"
for name in scan move; do
    tool=$SCAN
    [ "$name" = scan ] || tool=$MOVE
    run env AMQP_URL="$url" "$tool" --check --queue "$q-fiels" --exchange "$ex"
    expect_rc 78 "$name --check, a queue that does not exist"
    expect_in err "$name: error: queue '$q-fiels' does not exist on $broker: nothing has created it yet (a typo in --queue?); scan and move create it when they first run" \
        "$name --check, a queue that does not exist: says so"
    expect_lines err 1 "$name --check, a queue that does not exist: one sentence"
    expect_lines out 0 "$name --check, a queue that does not exist: nothing on stdout"
    run env AMQP_URL="$url" "$tool" --check --queue "$q" --exchange "$ex-typo"
    expect_rc 78 "$name --check, an exchange that does not exist"
    expect_in err "$name: error: exchange '$ex-typo' does not exist on $broker: nothing has created it yet (a typo in --exchange?); scan and move create it when they first run" \
        "$name --check, an exchange that does not exist: says so"
    expect_lines err 1 "$name --check, an exchange that does not exist: one sentence"
done
checks=$((checks + 1))
! has_line queues "$q-fiels" || fail "--check created the queue $q-fiels"
checks=$((checks + 1))
! has_line queues "$q-fiels.dead" || fail "--check created the queue $q-fiels.dead"
checks=$((checks + 1))
! has_line exchanges "$ex-typo" || fail "--check created the exchange $ex-typo"
checks=$((checks + 1))
! has_line exchanges "$ex-typo.dlx" || fail "--check created the exchange $ex-typo.dlx"
ctl list_bindings destination_name --no-table-headers --quiet >"$WORK/bindings" 2>&1 || true
checks=$((checks + 1))
! grep -qF -- "$q-fiels" "$WORK/bindings" || fail "--check bound $q-fiels: $(cat "$WORK/bindings")"

# --dry-run changes nothing for --check (it used to leave the URL unread).
run env AMQP_URL="$url" "$SCAN" --check --dry-run --queue "$q" --exchange "$ex"
expect_rc 0 "scan --check --dry-run"
expect_in out "$broker (RabbitMQ " "scan --check --dry-run: the broker of AMQP_URL"

# The dead-letter side missing while the queue exists.
"$PY3" "$AMQP" delete "$url" "$q.dead" >/dev/null || fail "amqp_tool.py delete $q.dead"
run env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex"
expect_rc 78 "scan --check, no dead-letter queue"
expect_in err "scan: error: queue '$q.dead' does not exist on $broker: although queue '$q' does; scan and move create it when they next run" \
    "scan --check, no dead-letter queue: says so"
checks=$((checks + 1))
! has_line queues "$q.dead" || fail "--check created the queue $q.dead"
run declare_topo
expect_rc 0 "scan declares $q.dead again"

# ---- 2. the routing key is the queue's name by default -----------------------------
mkdir -p "$WORK/three"
for i in 1 2 3; do echo "$i" >"$WORK/three/f$i"; done
run env AMQP_URL="$url" "$SCAN" -q --queue "$q-other" --exchange "$ex" "$WORK/declare-topo-empty"
expect_rc 0 "scan --queue $q-other declares its queue"
run env AMQP_URL="$url" "$SCAN" -q --queue "$q" --exchange "$ex" --no-mime "$WORK/three"
expect_rc 0 "scan of three files into $q"
expect_eq "$(count "$q")" 3 "the three messages are in $q"
expect_eq "$(count "$q-other")" 0 "nothing went to $q-other, another pipeline's queue"
ctl list_bindings source_name destination_name routing_key --no-table-headers --quiet \
    >"$WORK/bindings" 2>&1 || true
checks=$((checks + 1))
grep -qxF -- "$ex	$q-other	$q-other" "$WORK/bindings" ||
    fail "$q-other is not bound by its own name: $(grep -F -- "$ex" "$WORK/bindings")"
# The default queue keeps the key "files" (here on an exchange of our own;
# left alone when some other run made a queue "files").
run env AMQP_URL="$url" "$SCAN" --check --exchange "$ex"
if [ "$rc" = 78 ] && grep -qF "queue 'files' does not exist" "$WORK/err"; then
    declared+=(files)
    # --requeue-after 0: the three files are marked as queued in $q already.
    run env AMQP_URL="$url" "$SCAN" -q --exchange "$ex" --no-mime --requeue-after 0 "$WORK/three"
    expect_rc 0 "scan into the default queue"
    expect_eq "$(count files)" 3 "the default queue has the three messages"
    expect_eq "$(count "$q-other")" 0 "the default queue's scan put nothing into $q-other"
    ctl list_bindings source_name destination_name routing_key --no-table-headers --quiet \
        >"$WORK/bindings" 2>&1 || true
    checks=$((checks + 1))
    grep -qxF -- "$ex	files	files" "$WORK/bindings" ||
        fail "the default queue is not bound by 'files': $(grep -F -- "$ex" "$WORK/bindings")"
else
    echo "note: a queue 'files' exists on the test broker; the default-queue part is skipped" >&2
fi

# A queue made by an older version, whose key was "files" for every queue.
run env AMQP_URL="$url" "$SCAN" -q --queue "$q-old" --exchange "$ex" --routing-key files \
    "$WORK/declare-topo-empty"
expect_rc 0 "scan declares $q-old as older versions did, with the key files"
for name in scan move; do
    tool=$SCAN
    [ "$name" = scan ] || tool=$MOVE
    run env AMQP_URL="$url" "$tool" --check --queue "$q-old" --exchange "$ex"
    expect_rc 78 "$name --check, a queue made with the old default key"
    expect_in err "$name: error: queue '$q-old' exists with other settings (" \
        "$name --check, a queue made with the old default key: names the queue"
    expect_in err "); it was made with another routing key (older versions used 'files' for every queue): give --routing-key as it was made, or delete it" \
        "$name --check, a queue made with the old default key: says what to do"
    expect_lines err 1 "$name --check, a queue made with the old default key: one sentence"
    run env AMQP_URL="$url" "$tool" --check --queue "$q-old" --exchange "$ex" --routing-key files
    expect_rc 0 "$name --check --routing-key files, a queue made with the old default key"
done

# ---- 3. --check --json ---------------------------------------------------------------
printf '{"v":1}' >"$WORK/d1"
"$PY3" "$AMQP" publish "$url" "$ex.dlx" "$q" "$WORK/d1" "$WORK/d1" >/dev/null ||
    fail "amqp_tool.py publish to $ex.dlx"
for name in scan move; do
    tool=$SCAN
    [ "$name" = scan ] || tool=$MOVE
    run env AMQP_URL="$url" "$tool" --check --json --queue "$q" --exchange "$ex"
    expect_rc 0 "$name --check --json"
    expect_lines err 0 "$name --check --json: nothing on stderr"
    jcheck "$name --check --json" "broker=\"$broker\"" 'server_version~="RabbitMQ "' \
        "exchange=\"$ex\"" "queue=\"$q\"" 'queue_type="quorum"' "routing_key=\"$q\"" \
        messages=3 consumers=0 "dead_letter_queue=\"$q.dead\"" dead_letter_messages=2 'error!='
    expect_not_in out "guest:" "$name --check --json: no password"
    # The text report says the same.
    run env AMQP_URL="$url" "$tool" --check --queue "$q" --exchange "$ex"
    expect_rc 0 "$name --check"
    expect_in out "$broker (RabbitMQ " "$name --check: the broker"
    expect_in out "queue '$q' (quorum) has 3 messages and 0 consumers; '$q.dead' has 2 messages" \
        "$name --check: the counts"
    # A missing queue: the object with "error", the sentence on stderr, 78.
    run env AMQP_URL="$url" "$tool" --check --json --queue "$q-fiels" --exchange "$ex"
    expect_rc 78 "$name --check --json, a queue that does not exist"
    jcheck "$name --check --json, a queue that does not exist" "queue=\"$q-fiels\"" \
        'messages=null' "error=\"queue '$q-fiels' does not exist on $broker: nothing has created it yet (a typo in --queue?); scan and move create it when they first run\""
    expect_lines err 1 "$name --check --json, a queue that does not exist: the sentence on stderr"
    # A broker that is not there: 69, as without --json.
    run env AMQP_URL="amqp://guest:guest@127.0.0.1:1/" "$tool" --check --json --queue "$q"
    expect_rc 69 "$name --check --json, no broker"
    jcheck "$name --check --json, no broker" 'broker="amqp://guest@127.0.0.1:1/"' \
        'server_version=null' 'error~="cannot connect to amqp://guest@127.0.0.1:1/"'
done
checks=$((checks + 1))
! has_line queues "$q-fiels" || fail "--check --json created the queue $q-fiels"


# ---- 4. the age of the oldest waiting message ---------------------------------------------
mkdir -p "$WORK/empty"
run env AMQP_URL="$url" "$SCAN" -q --queue "$q-classic" --exchange "$ex" --queue-type classic \
    "$WORK/empty"
expect_rc 0 "declare a classic queue"
old=$(($(date +%s) - 100))
for i in 1 2 3; do
    printf '{"id":"%032d"}' "$i" >"$WORK/m$i"
done
AMQP_TOOL_TIMESTAMP=$old "$PY3" "$AMQP" publish "$url" "$ex" "$q-classic" "$WORK/m1" "$WORK/m2" \
    "$WORK/m3" || fail "publish three messages 100 s old"
for tool in "$SCAN" "$MOVE"; do
    run env AMQP_URL="$url" "$tool" --check --json --queue "$q-classic" --exchange "$ex" \
        --queue-type classic
    expect_rc 0 "--check --json of a classic queue"
    jcheck "--check --json of a classic queue" messages=3 dead_letter_consumers=0 \
        'oldest_message_age_unknown!='
    checks=$((checks + 1))
    age=$("$PY3" -c 'import json, sys; print(json.load(open(sys.argv[1]))["oldest_message_age_seconds"])' "$WORK/out")
    [ "$age" -ge 100 ] && [ "$age" -le 130 ] || fail "the oldest message is 100 s old, not $age"
done
run env AMQP_URL="$url" "$MOVE" --check --queue "$q-classic" --exchange "$ex" --queue-type classic
expect_re out "^the oldest waiting message was published 1[0-2][0-9] s ago$" "--check: the age"
# The order is the one published, and nothing was taken.
"$PY3" "$AMQP" get "$url" "$q-classic" 10 "$WORK/got" >/dev/null
checks=$((checks + 1))
"$PY3" -c 'import json, sys
ids = [json.loads(json.loads(l)["body"])["id"] for l in open(sys.argv[1])]
sys.exit(0 if ids == ["%032d" % i for i in (1, 2, 3)] else 1)' "$WORK/got" ||
    fail "the queue's order changed: $(cut -c1-200 "$WORK/got")"

# A quorum queue (the default) on this broker: no look at the head.
version=$(env AMQP_URL="$url" "$MOVE" --check --json --queue "$q" --exchange "$ex" |
    "$PY3" -c 'import json, sys; print(json.load(sys.stdin)["server_version"])')
case $version in
"RabbitMQ "[0-3].* | "RabbitMQ 4."[0-2].*)
    run env AMQP_URL="$url" "$MOVE" --check --json --queue "$q" --exchange "$ex"
    expect_rc 0 "--check --json of a quorum queue"
    jcheck "--check --json of a quorum queue on $version" messages=3 \
        oldest_message_age_seconds=null \
        'oldest_message_age_unknown="a quorum queue before RabbitMQ 4.3 counts a look at its head as a delivery"'
    "$PY3" "$AMQP" peek "$url" "$q" 1 "$WORK/head" >/dev/null
    expect_not_in head "x-delivery-count" "the quorum queue's head was never delivered"
    ;;
*) echo "NOTE: $version: the quorum queue's head is looked at" >&2 ;;
esac

finish
