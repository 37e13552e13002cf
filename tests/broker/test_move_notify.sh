#!/usr/bin/env bash
# Against the private broker: a mover speaks systemd's notification
# protocol (sd_notify(3)) to a unix datagram socket named by $NOTIFY_SOCKET,
# as systemd's Type=notify with WatchdogSec= has it do:
#   1. READY=1 once it consumes, STATUS= lines with the counts, WATCHDOG=1
#      pings (WATCHDOG_USEC=2000000: never 2 s apart) while it works and
#      while it idles, and STOPPING=1 when SIGTERM drains it (exit 0);
#   2. stopped with SIGSTOP, it stops pinging (the pings come from the loop,
#      not from a thread that lives on while the loop is stuck), and pings
#      again after SIGCONT;
#   3. WATCHDOG_PID naming another process turns the pings off;
#   4. an abstract socket ("@name") works too; without NOTIFY_SOCKET nothing
#      changes.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

# listen SOCK LOG : collect the datagrams sent to SOCK (a path, or @name),
# one line each, "SECONDS<TAB>TEXT" with newlines as '|', until killed.
listen() {
    "$PY3" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
name = sys.argv[1]
s.bind("\0" + name[1:] if name.startswith("@") else name)
with open(sys.argv[2], "a", buffering=1) as log:
    log.write("%.3f\tLISTENING\n" % time.monotonic())
    while True:
        data = s.recv(4096).decode("utf-8", "replace")
        log.write("%.3f\t%s\n" % (time.monotonic(), data.replace("\n", "|")))
' "$1" "$2" &
    lpid=$!
    bg_pids+=("$lpid")
    wait_until 5 "the listener on $1" grep -qs LISTENING "$2"
}

# seen LOG TEXT : how many datagrams of LOG are exactly TEXT.
seen() { cut -f2 "$1" | grep -cx -- "$2" || true; }

# has_files DIR N : DIR holds N files; more_pings LOG N : LOG has more than N WATCHDOG=1.
has_files() { [ "$(nfiles "$1")" -eq "$2" ]; }
more_pings() { [ "$(seen "$1" WATCHDOG=1)" -gt "$2" ]; }

topo notify
R=$WORK/notify/root
D=$WORK/notify/dest
mkdir -p "$R" "$D"
"$PY3" "$PY" mktree "$R" 300 7
scanq "$R"

# --- 1 and 2: a mover under a watchdog -------------------------------------------------
sock=$WORK/notify.sock
log=$WORK/notify.log
listen "$sock" "$log"
env AMQP_URL="$url" NOTIFY_SOCKET="$sock" WATCHDOG_USEC=2000000 "$MOVE" --queue "$q" \
    --exchange "$ex" --from "$R" --to "$D" --json >"$WORK/out" 2>"$WORK/err" &
mpid=$!
bg_pids+=("$mpid")
wait_until 30 "the mover moved the 300 files" has_files "$D" 300
wait_until 10 "READY=1" grep -qx "$(printf '[0-9.]*\tREADY=1')" "$log"
expect_eq "$(seen "$log" READY=1)" 1 "READY=1 is sent once"
sleep 4 # idle: the loop still turns, every 0.5 s at most
wait_until 5 "STATUS= with the counts" grep -Eq \
    "$(printf '\tSTATUS=consuming: 300 moved, 0 duplicates, 0 skipped, 0 dead-lettered, 0 requeued, [0-9]+ files/s$')" "$log"
pings=$(seen "$log" WATCHDOG=1)
[ "$pings" -ge 3 ] || fail "WATCHDOG=1 pings while working and idling: $pings, want 3 or more: $(cut -f1,2 "$log" | tr "\n\t" "; " | cut -c1-400)"
checks=$((checks + 1))
# The pings come every 1 s (half of WATCHDOG_USEC) to 1.5 s (and a turn of
# the loop), never as late as the watchdog's 2 s.
"$PY3" - "$log" <<'PY' || fail "WATCHDOG=1 pings 2 s or more apart"
import sys
t = [float(l.split("\t")[0]) for l in open(sys.argv[1]) if l.rstrip("\n").endswith("\tWATCHDOG=1")]
gaps = [b - a for a, b in zip(t, t[1:])]
sys.exit(0 if gaps and max(gaps) < 2.0 else 1)
PY
checks=$((checks + 1))

kill -STOP "$mpid"
sleep 0.3 # a ping already on its way
before=$(seen "$log" WATCHDOG=1)
sleep 3
expect_eq "$(seen "$log" WATCHDOG=1)" "$before" "a mover stopped with SIGSTOP sends no WATCHDOG=1"
kill -CONT "$mpid"
wait_until 5 "WATCHDOG=1 again after SIGCONT" more_pings "$log" "$before"

expect_eq "$(seen "$log" STOPPING=1)" 0 "no STOPPING=1 before the drain"
kill -TERM "$mpid"
wait_pid "$mpid" 10 "the mover after SIGTERM"
expect_eq "$rc" 0 "the mover drains on SIGTERM and exits 0"
expect_eq "$(seen "$log" STOPPING=1)" 1 "STOPPING=1 is sent once, on the drain"
checks=$((checks + 1))
"$PY3" - "$log" <<'PY' || fail "the order is READY=1, ..., STOPPING=1: $(cut -f2 "$log" | tr '\n' ' ' | cut -c1-300)"
import sys
msgs = [l.rstrip("\n").split("\t", 1)[1] for l in open(sys.argv[1])][1:]
r, s = msgs.index("READY=1"), msgs.index("STOPPING=1")
sys.exit(0 if r < s and all(m.startswith(("STATUS=", "WATCHDOG=1", "READY=1", "STOPPING=1")) for m in msgs) else 1)
PY
kill "$lpid" 2>/dev/null

# --- 3: WATCHDOG_PID of another process: no pings; 4: an abstract socket -------------
alog=$WORK/abstract.log
listen "@scanmove-test-$$" "$alog"
run env AMQP_URL="$url" NOTIFY_SOCKET="@scanmove-test-$$" WATCHDOG_USEC=200000 WATCHDOG_PID=1 \
    timeout 30 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" --idle-exit 1s
expect_rc 0 "a mover with --idle-exit 1s on an empty queue"
wait_until 5 "READY=1 on the abstract socket" grep -qx "$(printf '[0-9.]*\tREADY=1')" "$alog"
expect_eq "$(seen "$alog" WATCHDOG=1)" 0 "WATCHDOG_PID of another process: no pings"
expect_eq "$(seen "$alog" STOPPING=1)" 1 "STOPPING=1 when --idle-exit ends the run"

# A NOTIFY_SOCKET that is not a socket path: a warning, and the work goes on.
run env AMQP_URL="$url" NOTIFY_SOCKET="nonsense" timeout 30 "$MOVE" --queue "$q" --exchange "$ex" \
    --from "$R" --to "$D" --idle-exit 1s
expect_rc 0 "a bad NOTIFY_SOCKET is not fatal"
expect_in err "NOTIFY_SOCKET is not a socket path" "a bad NOTIFY_SOCKET is said"
finish
