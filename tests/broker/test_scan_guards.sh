#!/usr/bin/env bash
# Against the private broker: the guards that keep scans from cron from
# piling up. Two scans of one root never run at once (the second exits 75
# naming the holder, or waits with --wait); --max-queued publishes nothing
# and exits 75 once the queue holds that many messages.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/scan_lib.sh"

topo_names guards
pids=()
R=$WORK/in
mkdir -p "$R"
for i in 1 2 3; do echo "file $i" >"$R/f$i.txt"; done

# --- a root locked by another scan: exit 75 with the holder's pid ---------------------------
# flock(1) takes the same lock scan takes: an exclusive flock on the directory.
flock "$R" sleep 30 &
holder=$!
bg_pids+=("$holder")
for _ in $(seq 50); do grep -q "FLOCK.* $holder " /proc/locks 2>/dev/null && break; sleep 0.1; done
scanq --no-mime "$R"
expect_rc 75 "a root held by another scan"
expect_re err "^scan: error: another scan \(pid $holder\) is scanning $(realpath "$R"); try again later, or use --wait$" \
    "one sentence naming the holder"
expect_lines err 1 "and nothing else"

# --- with --wait, it waits and then runs --------------------------------------------------
t0=$(now_ms)
(sleep 2; kill "$holder") &
scanq --no-mime --wait --json "$R"
t1=$(now_ms)
expect_rc 0 "--wait runs once the lock is free"
expect_re err "^scan: notice: waiting for the scan \(pid $holder\) that holds " "--wait says once what it waits for"
expect_eq "$(summary published)" 3 "--wait: then publishes"
checks=$((checks + 1))
[ $((t1 - t0)) -ge 1500 ] || fail "--wait returned after $((t1 - t0)) ms, before the lock was free"

# --- two scans started together: one runs, the other exits 75 -----------------------------
for i in 1 2; do
    echo "more $i" >>"$R/f$i.txt"
done
for i in a b; do
    (
        set +e
        env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q "$R" 2>"$WORK/err.$i"
        echo $? >"$WORK/rc.$i"
    ) &
    pids+=($!)
done
wait "${pids[@]}"
rcs=$(sort "$WORK/rc.a" "$WORK/rc.b" | tr '\n' ' ')
checks=$((checks + 1))
case "$rcs" in
    "0 75 " | "0 0 ") ;; # 0 0: the first finished before the second began
    *) fail "two scans at once: exit statuses $rcs, expected 0 and 75: $(cat "$WORK"/err.?)" ;;
esac

# --- --max-queued ----------------------------------------------------------------------------
before=$(count)
scanq --no-mime --max-queued "$before" --requeue-after 0 "$R"
expect_rc 75 "--max-queued reached"
expect_re err "^scan: error: queue '$q' already holds $before messages \(--max-queued $before\): published nothing; try again once the movers have caught up$" \
    "--max-queued: one sentence"
expect_lines err 1 "--max-queued: nothing else"
expect_eq "$(count)" "$before" "--max-queued: nothing published"
scanq --no-mime --max-queued $((before + 1)) --requeue-after 0 --json "$R"
expect_rc 0 "under --max-queued the scan runs"
expect_eq "$(summary published)" 3 "under --max-queued: publishes"
scanq --max-queued 0 "$R"
expect_rc 64 "--max-queued 0 is a usage error"

finish
