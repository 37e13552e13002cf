#!/usr/bin/env bash
# Against the private broker: the broker stops mid-scan: exit 69, the
# messages not confirmed counted and listed in --rejects; a rerun after the
# broker is back succeeds, publishing what was not confirmed. The clean-up starts the broker again if need be.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/scan_lib.sh"

t=$WORK/many
make_many "$t"
# --- the broker stops mid-scan -----------------------------------------------------------
topo_names stop
declare_topo >/dev/null
rm -f "$WORK/rej"
(
    set +e
    env AMQP_URL="$url" timeout 300 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -j 1 \
        --confirm-window 16 --reconnect-timeout 0 --json --rejects "$WORK/rej" "$t" \
        >"$WORK/out" 2>"$WORK/err"
    echo $? >"$WORK/rc"
) &
for _ in $(seq 200); do
    [ "$(scan_count)" -gt 0 ] && break
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
    expect_in err "scan: error: lost the broker" "the sentence of the spec"
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
# Files whose message was confirmed before the stop are marked (scan(1)
# MARKS): the rerun publishes the others.
expect_eq "$(($(summary published) + $(summary already_queued)))" 20000 \
    "the rerun publishes every file that is not already queued"
checks=$((checks + 1))
n=$(scan_count)
[ "${n:-0}" -ge 20000 ] || fail "after the rerun the queue holds $n messages, fewer than the 20000 files"

finish
