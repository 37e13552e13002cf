# tests/faults/faults.sh - helpers of the fault scenarios (sourced after
# ../lib.sh, not run), on top of tests/broker/lib.sh (its clean-up at exit,
# counting). Every scenario must leave the broker running, with its default
# settings, whatever happened: the clean-up also restores the disk limit
# when an alarm was raised.
. "$TESTS_DIR/broker/lib.sh"
PY=$TESTS_DIR/scan_check.py
disk_limit_default=
on_exit+=('[ -z "$disk_limit_default" ] || alarm_off ||
    echo "$(basename "$0"): could not restore the disk limit $disk_limit_default" >&2')

# summary KEY : a key of the --json summary in $WORK/out.
summary() { "$PY3" "$PY" get "$WORK/out" "$1" 2>&1 || true; }

# ---- background runs -------------------------------------------------------

# bg_start CMD... : run CMD in the background, its stdout in $WORK/out, its
# stderr in $WORK/err; $bg is its pid (env execs its command: the same pid).
bg_start() {
    "$@" >"$WORK/out" 2>"$WORK/err" &
    bg=$!
}

# bg_wait SECONDS : wait up to SECONDS for $bg to exit; if it has not, send
# SIGTERM and, 10 s later, SIGKILL. Sets $rc, and $bg_how to what happened
# (for failure messages).
bg_wait() {
    local deadline=$((SECONDS + $1))
    bg_how="exited by itself"
    while kill -0 "$bg" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.2
    done
    if kill -0 "$bg" 2>/dev/null; then
        bg_how="still running after $1 s, stopped by SIGTERM"
        kill -TERM "$bg" 2>/dev/null || true
        deadline=$((SECONDS + 10))
        while kill -0 "$bg" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
            sleep 0.2
        done
        if kill -0 "$bg" 2>/dev/null; then
            bg_how="still running after $1 s, ignored SIGTERM for 10 s, killed"
            kill -KILL "$bg" 2>/dev/null || true
        fi
    fi
    set +e
    wait "$bg"
    rc=$?
    set -e
}

# wait_for SECONDS CMD... : poll CMD every 0.2 s until it succeeds; 1 if it
# never did within SECONDS.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# ---- broker alarms ---------------------------------------------------------

alarms() { ctl eval 'rabbit_alarm:get_alarms().' 2>/dev/null | tr -d ' \n'; }
disk_alarm_set() { case "$(alarms)" in *resource_limit,disk*) return 0 ;; esac; return 1; }
no_alarm() { [ "$(alarms)" = "[]" ]; }

# A connection of the broker is blocked: it published during an alarm, and
# the broker stopped reading from it.
connection_blocked() { ctl list_connections state -q 2>/dev/null | grep -qx blocked; }

# alarm_on : make the broker raise its disk alarm (a free-disk limit far
# above the free space) and wait until it has. The limit in force before
# is kept in $disk_limit_default, for alarm_off and the cleanup.
alarm_on() {
    local free
    if [ -z "$disk_limit_default" ]; then
        disk_limit_default=$(ctl eval 'rabbit_disk_monitor:get_disk_free_limit().' | tr -d ' \n')
        case "$disk_limit_default" in
            '' | *[!0-9]*) disk_limit_default=50MB ;; # what tests/broker.sh configures
        esac
        if disk_alarm_set; then
            echo "$(basename "$0"): a disk alarm is already on; restoring 50MB at the end" >&2
            disk_limit_default=50MB
        fi
    fi
    free=$(ctl eval 'rabbit_disk_monitor:get_disk_free().' | tr -d ' \n')
    case "$free" in '' | *[!0-9]*) free=1000000000000 ;; esac
    ctl set_disk_free_limit "$((free + 1000000000000))" >/dev/null
    wait_for 30 disk_alarm_set
}

# alarm_off : restore the disk limit and wait until no alarm is left.
alarm_off() {
    ctl set_disk_free_limit "$disk_limit_default" >/dev/null && wait_for 30 no_alarm
}
