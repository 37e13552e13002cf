#!/usr/bin/env bash
# Against the private broker: the broker nacks (a classic queue that
# refuses more than 5 messages): each nacked message is published again
# for --reconnect-timeout (here 2 s), then its file is reported nacked,
# once, exit 1.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/scan_lib.sh"

policy=
# shellcheck disable=SC2016 # evaluated at exit
extra_cleanup='[ -z "$policy" ] || ctl clear_policy "$policy" >/dev/null 2>&1'

# --- the broker nacks: a classic queue that refuses more than 5 messages ------------------
topo_names nack
mkdir "$WORK/twenty"
for i in $(seq 20); do echo "$i" >"$WORK/twenty/f$i"; done
declare_topo --queue-type classic >/dev/null
policy="scan-nack-$tag"
"$BROKER_SH" ctl set_policy "$policy" "^$q\$" '{"max-length":5,"overflow":"reject-publish"}' \
    --apply-to queues >/dev/null || fail "rabbitmqctl set_policy"
t0=$(now_ms)
scanq --queue-type classic --json --rejects "$WORK/rej" --reconnect-timeout 2s -v "$WORK/twenty"
took=$(($(now_ms) - t0))
expect_rc 1 "nacked messages fail the run"
# Each nacked message is tried again until 2 s after its first nack (at
# least 3 more times: waits of 0.25, 0.5 and 1 s, +-20%), and no longer.
[ "$took" -ge 2000 ] || fail "nack: scan gave up after $took ms, before --reconnect-timeout 2s"
[ "$took" -lt 15000 ] || fail "nack: scan took $took ms, long after --reconnect-timeout 2s"
retries=$(grep -c 'scan: info: the broker refused message [0-9a-f]* (nack); publishing it again' "$WORK/err" || true)
[ "$retries" -ge 45 ] || fail "nack: $retries retries, expected 3 or more for each of 15 messages"
expect_eq "$(grep -c '(attempt 2 of 5)$' "$WORK/err")" 15 "nack: each of the 15 nacked messages tried again"
expect_eq "$(summary published)" 5 "nack: published"
expect_eq "$(summary failed_by_reason)" '{"nacked": 15}' "nack: failed as nacked"
expect_eq "$(grep -c '"reason":"nacked"' "$WORK/rej")" 15 "nack: one --rejects line per nacked file"
expect_re err '^scan: notice: 20 files: 5 published, 0 rejected, 15 failed in ' "nack: summary line"
expect_eq "$(scan_count --queue-type classic)" 5 "nack: the queue holds the accepted ones"
expect_eq "$(drain 100)" 5 "nack: messages taken off the queue"
pycheck "nack: the summary agrees with the queue and --rejects" summary false "$WORK/bodies" \
    "$WORK/rej" "$WORK/out"
"$BROKER_SH" ctl clear_policy "$policy" >/dev/null 2>&1 || true
policy=

finish
