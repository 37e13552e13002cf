#!/usr/bin/env bash
# Against the private broker: scan publishes exactly one confirmed,
# persistent message per accepted file, with the documented body and AMQP
# properties; awkward names arrive intact; a rerun publishes again (same
# ids); an empty directory publishes nothing; a nack, an unroutable publish
# and a broker stopped mid-scan are reported per file with the documented
# exit statuses, and a rerun after the broker is back succeeds.
#
# Messages are taken off the queues with basic.get by tests/amqp_tool.py,
# a small AMQP 0-9-1 client (Python, standard library only): amqp-consume forks a command per
# message and shows no properties.
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
url=$("$BROKER_SH" url)
tag=$$
declared=()
policy=

# The broker must be running when this test ends, whatever happened: the
# other broker tests reuse it. Then remove what this test declared.
cleanup() {
    if ! "$BROKER_SH" status >/dev/null 2>&1; then
        "$BROKER_SH" start >/dev/null || echo "test_scan: could not restart the broker" >&2
    fi
    [ -z "$policy" ] || "$BROKER_SH" ctl clear_policy "$policy" >/dev/null 2>&1 || true
    local q
    for q in "${declared[@]}"; do
        amqp-delete-queue --url="$url" -q "$q" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

PY=$TESTS_DIR/scan_check.py

AMQP=$TESTS_DIR/amqp_tool.py

# summary KEY : a key of the --json summary of the last run.
summary() { "$PY3" "$PY" get "$WORK/out" "$1" 2>&1 || true; }

# topo N [OPTIONS] : set $q and $ex to a queue and an exchange of their own
# for part N of the test (a direct exchange shared by two queues bound with
# the same key would route every message to both), and remember the queues.
topo() {
    q="scan-$tag-$1"
    ex="scan-ex-$tag-$1"
    declared+=("$q" "$q.dead")
}

# scanq ARGS... : scan into $q through $ex.
scanq() { run env AMQP_URL="$url" timeout 300 "$SCAN" --queue "$q" --exchange "$ex" "$@"; }

# count [OPTIONS] : the number of messages in $q (scan --check declares
# nothing new: the topology exists already).
count() {
    env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex" "$@" |
        sed -n "s/.*queue '[^']*' ([a-z]*) has \([0-9]*\) messages and.*/\1/p"
}

# drain MAX : take up to MAX messages off $q (acknowledged, so gone) into
# $WORK/bodies and their properties into $WORK/props; prints how many.
drain() { "$PY3" "$AMQP" drain "$url" "$q" "$1" "$WORK/bodies" "$WORK/props"; }

# --- 3000 files: one message per accepted file, with the right fields ---------
topo big
t=$WORK/big
"$PY3" - "$t" <<'PYEOF'
import os, sys
t = sys.argv[1]
for i in range(3000):
    d = os.path.join(t, "d%d" % (i % 6), "e%d" % (i % 4))
    os.makedirs(d, exist_ok=True)
    name = "f%d.tmp" % i if i % 10 == 0 else "f%d.dat" % i
    with open(os.path.join(d, name), "w") as f:
        f.write("%d\n" % i * (i % 7))
for i in range(5):
    open(os.path.join(t, "d1", ".h%d" % i), "w").close()
PYEOF
scanq --exclude '*.tmp' --json --rejects "$WORK/rej" "$t"
expect_rc 0 "scan of 3005 entries"
expect_lines out 1 "only the --json summary on stdout"
expect_eq "$(summary published)" 2700 "published"
expect_eq "$(summary rejected_by_reason)" '{"excluded": 300, "hidden": 5}' "rejected by reason"
expect_eq "$(summary dry_run)" false "summary dry_run"
expect_re err '^scan: 3005 files: 2700 published, 305 rejected, 0 failed in [0-9]+\.[0-9]{2} s \([0-9]+ files/s\)$' \
    "summary line"
expect_eq "$(count)" 2700 "the queue holds one message per accepted file"
expect_eq "$(drain 5000)" 2700 "messages taken off the queue"
pycheck "every message matches its file" checkmsg present "$WORK/bodies"
pycheck "the --json summary agrees with the queue and --rejects" summary false "$WORK/bodies" \
    "$WORK/rej" "$WORK/out"
pycheck "AMQP properties" props "$WORK/bodies" "$WORK/props" "$ex" files
checks=$((checks + 1))
find "$t" -type f -name '*.dat' -printf '%P\n' | sort >"$WORK/want"
"$PY3" "$PY" paths "$WORK/bodies" | sort >"$WORK/got"
cmp -s "$WORK/want" "$WORK/got" || fail "the queue does not hold exactly the accepted files: $(diff "$WORK/want" "$WORK/got" | head -5)"
checks=$((checks + 1))
[ -z "$("$PY3" "$PY" ids "$WORK/bodies" | uniq -d)" ] || fail "duplicate ids in one scan"
expect_eq "$(count)" 0 "the queue is empty once drained"

# --- awkward names arrive intact; a rerun publishes again ---------------------------
topo names
t=$WORK/names
mkdir -p "$t/dir"$'\xff'
for f in "with space.txt" $'new\nline.txt' "-dash.txt" $'\xff\xfe.bin' 'q"uo\te.txt' \
    $'tab\there' "café.txt" "dir"$'\xff'"/inner"; do
    printf 'x' >"$t/$f"
done
run "$SCAN" --dry-run "$t"
expect_rc 0 "dry run of the names"
cp "$WORK/out" "$WORK/dry"
expect_lines out 8 "eight messages in the dry run"
scanq -q "$t"
expect_rc 0 "scan of the names"
expect_lines err 0 "-q: nothing on stderr"
expect_lines out 0 "nothing on stdout without --json"
scanq -q "$t"
expect_rc 0 "second scan of the names"
expect_eq "$(count)" 16 "a rerun publishes every file again"
expect_eq "$(drain 100)" 16 "messages of the names taken off the queue"
pycheck "names reach the queue intact (as the dry run printed them), twice" times 2 \
    "$WORK/dry" "$WORK/bodies"
pycheck "names: messages match their files" checkmsg present "$WORK/bodies"
pycheck "names: AMQP properties" props "$WORK/bodies" "$WORK/props" "$ex" files

# --- an empty directory publishes nothing ------------------------------------------------
topo empty
mkdir "$WORK/empty"
scanq --json "$WORK/empty"
expect_rc 0 "empty directory"
expect_eq "$(summary files)" 0 "empty directory: no files"
expect_re err '^scan: 0 files: 0 published, 0 rejected, 0 failed in ' "empty directory summary line"
expect_eq "$(count)" 0 "empty directory: empty queue"

# Another routing key: the queue is bound with it and gets the messages.
topo key
scanq --routing-key "rk-$tag" --json "$WORK/names"
expect_rc 0 "--routing-key"
expect_eq "$(count --routing-key "rk-$tag")" 8 "--routing-key: queue bound with that key"
expect_eq "$(drain 100)" 8 "--routing-key: messages"
pycheck "--routing-key: AMQP properties" props "$WORK/bodies" "$WORK/props" "$ex" "rk-$tag"

# --- the broker nacks: a classic queue that refuses more than 5 messages ------------------
topo nack
mkdir "$WORK/twenty"
for i in $(seq 20); do echo "$i" >"$WORK/twenty/f$i"; done
env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex" --queue-type classic >/dev/null
policy="scan-nack-$tag"
"$BROKER_SH" ctl set_policy "$policy" "^$q\$" '{"max-length":5,"overflow":"reject-publish"}' \
    --apply-to queues >/dev/null || fail "rabbitmqctl set_policy"
scanq --queue-type classic --json --rejects "$WORK/rej" "$WORK/twenty"
expect_rc 1 "nacked messages fail the run"
expect_eq "$(summary published)" 5 "nack: published"
expect_eq "$(summary failed_by_reason)" '{"nacked": 15}' "nack: failed as nacked"
expect_eq "$(grep -c '"reason":"nacked"' "$WORK/rej")" 15 "nack: one --rejects line per nacked file"
expect_re err '^scan: 20 files: 5 published, 0 rejected, 15 failed in ' "nack: summary line"
expect_eq "$(count --queue-type classic)" 5 "nack: the queue holds the accepted ones"
expect_eq "$(drain 100)" 5 "nack: messages taken off the queue"
pycheck "nack: the summary agrees with the queue and --rejects" summary false "$WORK/bodies" \
    "$WORK/rej" "$WORK/out"
"$BROKER_SH" ctl clear_policy "$policy" >/dev/null 2>&1 || true
policy=

# --- unroutable: the queue is deleted mid-scan, leaving no binding -------------------------
# scan declares and binds its queue itself, so a missing binding only happens
# when someone deletes the queue while scan runs. A classic queue: deleting a
# quorum queue under a publisher makes RabbitMQ 3.10 close the connection
# (INTERNAL_ERROR), and scan then reconnects and declares it again.
topo unroutable
t=$WORK/many
"$PY3" - "$t" <<'PYEOF'
import os, sys
for i in range(20000):
    d = os.path.join(sys.argv[1], "d%d" % (i % 20))
    if i < 20:
        os.makedirs(d)
    with open(os.path.join(d, "f%d" % i), "w") as f:
        f.write("x")
PYEOF
env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex" --queue-type classic >/dev/null
(
    set +e
    env AMQP_URL="$url" timeout 300 "$SCAN" --queue "$q" --exchange "$ex" --queue-type classic \
        --no-mime -j 1 --confirm-window 8 --json --rejects "$WORK/rej" "$t" \
        >"$WORK/out" 2>"$WORK/err"
    echo $? >"$WORK/rc"
) &
for _ in $(seq 200); do
    [ "$(count --queue-type classic)" -gt 0 ] && break
    sleep 0.05
done
amqp-delete-queue --url="$url" -q "$q" >/dev/null || fail "amqp-delete-queue"
wait
rc=$(cat "$WORK/rc")
if [ "$rc" -eq 0 ] && [ "$(summary published)" = 20000 ]; then
    echo "SKIP: scan finished before the queue was deleted: no unroutable check" >&2
else
    expect_rc 1 "unroutable messages fail the run"
    unroutable=$("$PY3" -c 'import json, sys; print(json.loads(sys.argv[1]).get("unroutable", 0))' \
        "$(summary failed_by_reason)")
    checks=$((checks + 1))
    [ "$unroutable" -gt 0 ] || fail "no file failed as unroutable: $(summary failed_by_reason)"
    expect_eq "$(summary failed)" "$unroutable" "unroutable is the only failure"
    expect_eq "$(($(summary published) + unroutable))" 20000 \
        "every accepted file published or unroutable"
    expect_eq "$(grep -c '"reason":"unroutable"' "$WORK/rej")" "$unroutable" \
        "one --rejects line per unroutable file"
fi

# --- the broker stops mid-scan -----------------------------------------------------------
topo stop
env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex" >/dev/null
rm -f "$WORK/rej"
(
    set +e
    env AMQP_URL="$url" timeout 300 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -j 1 \
        --confirm-window 16 --reconnect-timeout 0 --json --rejects "$WORK/rej" "$t" \
        >"$WORK/out" 2>"$WORK/err"
    echo $? >"$WORK/rc"
) &
for _ in $(seq 200); do
    [ "$(count)" -gt 0 ] && break
    sleep 0.05
done
"$BROKER_SH" stop || fail "broker.sh stop"
wait
rc=$(cat "$WORK/rc")
if [ "$rc" -eq 0 ]; then
    echo "SKIP: scan finished before the broker stopped: no lost-broker check" >&2
else
    expect_rc 69 "a lost broker that does not come back"
    expect_re err 'scan: .*: [0-9]+ messages? (was|were) not confirmed$' \
        "a sentence says how many messages were not confirmed"
    expect_in err "scan: lost the broker" "the sentence of the spec"
    n=$(sed -En 's/.*: ([0-9]+) messages? (was|were) not confirmed$/\1/p' "$WORK/err" | tail -1)
    expect_eq "$(grep -c '"reason":"unconfirmed"' "$WORK/rej" || true)" "${n:-none}" \
        "--rejects has one unconfirmed line per message not confirmed"
    expect_eq "$(grep -vc '"reason":"unconfirmed"' "$WORK/rej" || true)" 0 \
        "unconfirmed is the only failure"
fi
url2=$("$BROKER_SH" start) || fail "broker.sh start after stop"
expect_eq "$url2" "$url" "the broker comes back on the same URL"
scanq --json "$t"
expect_rc 0 "the rerun after the broker is back"
expect_eq "$(summary published)" 20000 "the rerun publishes every file"
checks=$((checks + 1))
n=$(count)
[ "${n:-0}" -ge 20000 ] || fail "after the rerun the queue holds $n messages, fewer than the 20000 files"

finish
