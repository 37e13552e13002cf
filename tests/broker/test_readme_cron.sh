#!/usr/bin/env bash
# Against the private broker: the crontab of README.md's "Running from cron"
# works as written. Its command lines (between "# scanmove: cron" and
# "# scanmove: end") are run three times, as three cron cycles, with the
# schedule fields dropped and only the paths, the URL file and the queue
# made the test's own; the scan of each cycle runs first. Every file is
# moved once, and nothing is printed on success.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

topo_names readme
README=$SOURCE_DIR/README.md
[ -f "$README" ] || README=$TESTS_DIR/../README.md
sed -n '/^# scanmove: cron$/,/^# scanmove: end$/p' "$README" | grep -v '^#' >"$WORK/crontab"
expect_eq "$(wc -l <"$WORK/crontab")" 3 "README's crontab: a scan and two movers"

I=$WORK/intake
A=$WORK/archive
mkdir -p "$I/a/b" "$A"
printf '%s\n' "$url" >"$WORK/url"
chmod 600 "$WORK/url"
# The crontab's lines as commands: schedule fields dropped, the tools and
# the test's directories, URL file and queue put in.
while read -r _ _ _ _ _ cmd tool args; do
    [ "$cmd" = scanmove ] || fail "README's crontab runs '$cmd', not the installed command scanmove"
    args=${args//\/srv\/intake/$I}
    args=${args//\/srv\/archive/$A}
    args=${args//\/etc\/scanmove\/url/$WORK/url}
    args=${args//--idle-exit 30s/--idle-exit 2s}
    case "$tool" in
        scan) echo "\"\$SCAN\" --queue \"\$q\" --exchange \"\$ex\" $args" ;;
        move) echo "\"\$MOVE\" --queue \"\$q\" --exchange \"\$ex\" $args" ;;
        *) fail "README's crontab runs '$tool'" ;;
    esac
done <"$WORK/crontab" >"$WORK/jobs"
grep -q min-age "$WORK/jobs" || fail "the crontab's scan has --min-age"

total=0
for cycle in 1 2 3; do
    for i in $(seq 20); do echo "cycle $cycle file $i" >"$I/a/b/c$cycle-$i.txt"; done
    # --min-age 2m: files written "now" are too young; age them.
    find "$I" -type f -newermt '-2 minutes' -exec touch -d '-5 minutes' {} +
    total=$((total + 20))
    : >"$WORK/cycle.out"
    : >"$WORK/cycle.err"
    n=0
    while read -r job; do
        n=$((n + 1))
        set +e
        if [ "$n" = 1 ]; then # the scan, before the movers
            eval "timeout 120 $job" >>"$WORK/cycle.out" 2>>"$WORK/cycle.err"
            echo $? >"$WORK/rc.$n"
        else
            (eval "timeout 120 $job" >>"$WORK/cycle.out" 2>>"$WORK/cycle.err"; echo $? >"$WORK/rc.$n") &
            bg_pids+=($!)
        fi
        set -e
    done <"$WORK/jobs"
    wait
    expect_eq "$(cat "$WORK/rc.1" "$WORK/rc.2" "$WORK/rc.3" | tr '\n' ' ')" "0 0 0 " \
        "cycle $cycle: the scan and both movers exit 0"
    expect_eq "$(cat "$WORK/cycle.out" "$WORK/cycle.err")" "" "cycle $cycle: silent on success"
    expect_eq "$(nfiles "$A")" "$total" "cycle $cycle: every file so far at the archive"
    expect_eq "$(nfiles "$I")" 0 "cycle $cycle: none left in the intake"
done
expect_eq "$(count) $(count "$q.dead")" "0 0" "both queues empty"

finish
