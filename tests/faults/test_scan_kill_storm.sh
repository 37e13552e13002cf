#!/usr/bin/env bash
# Fault: scan killed with SIGKILL at random instants while it publishes and
# marks a 20,000-file tree, and run again each time (issue 11). Afterwards
# no file may carry a mark (common/mark.h) without a confirmed message for
# it in the queue, every file has a message, and the final scan publishes
# only what no earlier run had confirmed and marked. Messages published but
# not yet confirmed or marked at a kill are published again by the next run:
# those duplicates (at most a confirm window per kill) are counted and
# reported; the movers then recognise them, and the audit passes.
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
AUDIT=$TESTS_DIR/audit.sh
umask 022

. "$TESTS_DIR/faults/faults.sh"
. "$TESTS_DIR/broker/scan_lib.sh"
command -v strace >/dev/null || skip "strace is not installed"
PY=$TESTS_DIR/move_util.py # for jnum
q=faults-storm-$tag
ex=faults-storm-ex-$tag
declared+=("$q")

R=$WORK/root
D=$WORK/dest
mkdir -p "$R" "$D"
make_many "$R"
N=20000
"$AUDIT" snapshot "$R" >"$WORK/root.manifest"

kills=20
killed=0
midway=0 # kills that landed after some confirms and marks, before the last
marked=0
for i in $(seq "$kills"); do
    # Traced by strace, every system call of scan is slowed down (the mark
    # writes are one a file, as many as the walk's lstat calls): a whole run
    # of the tree takes several seconds here, and a rerun publishes only what
    # is not marked yet, so a random instant in its first 2.5 s mostly lands
    # while it walks, publishes, confirms and marks.
    strace -f -qq -o /dev/null \
        env "$NO_LSAN" AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q "$R" \
        >/dev/null 2>"$WORK/scan.err" &
    tracer=$!
    sleep "0.$(printf '%03d' $((150 + RANDOM % 850)))"
    sleep "$((RANDOM % 2)).$(printf '%03d' $((RANDOM % 500)))"
    pid=$(pgrep -P "$tracer" || echo "$tracer")
    kill -KILL "$pid" 2>/dev/null || true
    st=0
    wait "$tracer" 2>/dev/null || st=$?
    [ "$st" = 137 ] && killed=$((killed + 1))
    before=$marked
    marked=$("$PY3" "$TESTS_DIR/faults/marks_check.py" count "$R")
    [ "$st" = 137 ] && [ "$marked" -gt "$before" ] && [ "$marked" -lt "$N" ] && midway=$((midway + 1))
done
checks=$((checks + 1))
[ "$midway" -ge 2 ] ||
    fail "only $midway of the $killed kills landed while scan was confirming and marking"
run env AMQP_URL="$url" timeout 300 "$SCAN" --queue "$q" --exchange "$ex" --no-mime --json "$R"
expect_rc 0 "the scan after the storm"
final_pub=$("$PY3" "$PY" jnum "$WORK/out" published)
final_queued=$("$PY3" "$PY" jnum "$WORK/out" already_queued)
expect_eq "$((final_pub + final_queued))" "$N" "the final scan publishes or finds queued every file"

"$PY3" "$AMQP" peek "$url" "$q" 200000 "$WORK/peeked" >/dev/null
run "$PY3" "$TESTS_DIR/faults/marks_check.py" "$R" "$WORK/peeked"
expect_rc 0 "no mark without a queued message, and a message for every file"
read -r files msgs marked dups <"$WORK/out"
expect_eq "$files" "$N" "every file still in place"
expect_eq "$marked" "$N" "every file marked once the final scan has run"
checks=$((checks + 1))
[ "$dups" -le $((kills * 4096)) ] || fail "$dups duplicates: more than a confirm window per kill"
echo "kill storm: $killed of $kills runs killed ($midway while marking); $msgs messages for $N files ($dups duplicates); the final scan published $final_pub" >&2

# Two movers take it all; every file lands once.
for i in 1 2; do
    (
        set +e
        env AMQP_URL="$url" timeout 300 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" \
            --to "$D" --idle-exit 3s --json >"$WORK/move.$i" 2>"$WORK/move.$i.err"
        echo $? >"$WORK/move.$i.rc"
    ) &
    pids+=($!)
done
wait "${pids[@]}"
moved=$(($("$PY3" "$PY" jnum "$WORK/move.1" moved) + $("$PY3" "$PY" jnum "$WORK/move.2" moved)))
expect_eq "$moved" "$N" "every file moved once"
run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" --manifest "$WORK/root.manifest"
expect_rc 0 "the audit passes"
expect_eq "$(count) $(count "$q.dead")" "0 0" "both queues empty"

finish
