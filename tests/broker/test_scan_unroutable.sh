#!/usr/bin/env bash
# Against the private broker: the queue is deleted mid-scan, leaving no
# binding: each unroutable file is reported, exit 1.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/scan_lib.sh"

# --- unroutable: the queue is deleted mid-scan, leaving no binding -------------------------
# scan declares and binds its queue itself, so a missing binding only happens
# when someone deletes the queue while scan runs. A classic queue: deleting a
# quorum queue under a publisher makes RabbitMQ 3.10 close the connection
# (INTERNAL_ERROR), and scan then reconnects and declares it again.
topo_names unroutable
t=$WORK/many
make_many "$t"
declare_topo --queue-type classic >/dev/null
(
    set +e
    env AMQP_URL="$url" timeout 300 "$SCAN" --queue "$q" --exchange "$ex" --queue-type classic \
        --no-mime -j 1 --confirm-window 8 --json --rejects "$WORK/rej" "$t" \
        >"$WORK/out" 2>"$WORK/err"
    echo $? >"$WORK/rc"
) &
for _ in $(seq 200); do
    [ "$(scan_count --queue-type classic)" -gt 0 ] && break
    sleep 0.05
done
"$PY3" "$AMQP" delete "$url" "$q" >/dev/null || fail "amqp_tool.py delete"
wait
rc=$(cat "$WORK/rc")
if [ "$rc" -eq 0 ] && [ "$(summary published)" = 20000 ]; then
    echo "SKIP: scan finished before the queue was deleted: no unroutable check" >&2
    exit 77
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

finish
