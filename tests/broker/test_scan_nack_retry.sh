#!/usr/bin/env bash
# Against the private broker: nacks that pass on retry. A classic queue that
# refuses more than 5 messages is full (5 fillers) when scan starts, so the
# broker nacks each of its 5 messages; once scan says it will try again, the
# test takes the fillers off: every message goes through on a retry, scan
# exits 0, each file published exactly once.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/scan_lib.sh"

policy=
# shellcheck disable=SC2016 # evaluated at exit
extra_cleanup='[ -z "$policy" ] || ctl clear_policy "$policy" >/dev/null 2>&1'

topo_names retry
mkdir "$WORK/five" "$WORK/fill"
for i in $(seq 5); do
    echo "$i" >"$WORK/five/f$i"
    echo "{\"filler\":$i}" >"$WORK/fill/$i"
done
declare_topo --queue-type classic >/dev/null
policy="scan-nack-retry-$tag"
ctl set_policy "$policy" "^$q\$" '{"max-length":5,"overflow":"reject-publish"}' \
    --apply-to queues >/dev/null || fail "rabbitmqctl set_policy"
publish "$WORK"/fill/*
expect_eq "$(count)" 5 "retry: the queue is full before scan starts"

env AMQP_URL="$url" timeout 300 "$SCAN" --queue "$q" --exchange "$ex" --queue-type classic \
    --json --rejects "$WORK/rej" --reconnect-timeout 30s -v "$WORK/five" \
    >"$WORK/out" 2>"$WORK/err" &
scan_pid=$!
bg_pids+=("$scan_pid")
# Until scan says it will publish again (the old scan never does: it ends).
for _ in $(seq 300); do
    grep -q 'publishing it again' "$WORK/err" && break
    kill -0 "$scan_pid" 2>/dev/null || break
    sleep 0.05
done
# The fillers are the first 5 in the queue: room for scan's retries.
expect_eq "$("$PY3" "$AMQP" drain "$url" "$q" 5 "$WORK/fillers" "$WORK/fillprops")" 5 \
    "retry: the fillers taken off"
set +e
wait "$scan_pid"
rc=$?
set -e
bg_pids=()
expect_rc 0 "nacks that pass on retry do not fail the run"
expect_re err '^scan: info: the broker refused message [0-9a-f]{32} \(nack\); publishing it again in [0-9.]+ s \(attempt 2 of 5\)$' \
    "retry: scan said it would publish again"
expect_eq "$(summary published)" 5 "retry: published"
expect_eq "$(summary failed)" 0 "retry: failed"
expect_eq "$(wc -l <"$WORK/rej")" 0 "retry: no --rejects line"
expect_re err '^scan: notice: 5 files: 5 published, 0 rejected, 0 failed in ' "retry: summary line"
expect_eq "$(grep -c '"filler"' "$WORK/fillers")" 5 "retry: the fillers were what was taken off"
expect_eq "$(count)" 5 "retry: the queue holds each file once"
expect_eq "$(drain 100)" 5 "retry: messages taken off the queue"
expect_eq "$("$PY3" -c 'import json, sys
print(len({json.loads(l)["id"] for l in open(sys.argv[1])}))' "$WORK/bodies")" 5 \
    "retry: five different messages"
pycheck "retry: the summary agrees with the queue" summary false "$WORK/bodies" "$WORK/rej" \
    "$WORK/out"
ctl clear_policy "$policy" >/dev/null 2>&1 || true
policy=

finish
