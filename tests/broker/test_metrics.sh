#!/usr/bin/env bash
# Against the private broker (contract: docs/monitoring.md, the METRICS
# sections of docs/scan.1 and docs/move.1): scan and move write their
# --metrics file; `promtool check metrics` passes on it; its counters match
# the run's --json summary; no label carries a path or an id; scan's last
# success survives a failed run (and is 0, not missing, before the first);
# move rewrites the file every --metrics-interval while it runs, on SIGHUP
# and at exit, counts a reconnect, and its queue latency histogram counts
# every file moved or found moved whose message has a published_at. Needs
# promtool (Debian package prometheus); skipped (77) without it.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"
prefix=metrics
MC=$TESTS_DIR/metrics_check.py

command -v promtool >/dev/null || skip "promtool is not installed (Debian package prometheus)"

# promcheck FILE WHAT : FILE is there, promtool finds nothing wrong in it,
# and its labels are bounded.
promcheck() {
    checks=$((checks + 1))
    if [ ! -s "$1" ]; then
        fail "$2: no metrics file $1"
        return 0
    fi
    promtool check metrics <"$1" >"$WORK/promtool.out" 2>&1 ||
        fail "$2: promtool check metrics: $(head -c 800 "$WORK/promtool.out")"
    "$PY3" "$MC" labels "$1" >"$WORK/mc.out" 2>&1 || fail "$2: $(head -c 800 "$WORK/mc.out")"
}

# mval FILE NAME [LABEL=VALUE...] : the sum of the matching samples.
mval() { "$PY3" "$MC" value "$@" 2>&1; }

# mcheck WHAT scan|move FILE JSON [OBSERVED] : the counters match the summary.
mcheck() {
    local what=$1
    shift
    checks=$((checks + 1))
    "$PY3" "$MC" "$@" >"$WORK/mc.out" 2>&1 || fail "$what: $(head -c 800 "$WORK/mc.out")"
}

# between LOW X HIGH : LOW <= X <= HIGH, as numbers.
between() { awk -v l="$1" -v x="$2" -v h="$3" 'BEGIN { exit !(l <= x && x <= h) }'; }

# stamp FILE : its inode and modification time (each write makes a new
# file and renames it: the pair changes), or "none".
stamp() { stat -c '%i %y' "$1" 2>/dev/null || echo none; }

# changed FILE STAMP : FILE's stamp is no longer STAMP.
changed() { [ "$(stamp "$1")" != "$2" ]; }

topo main
R=$WORK/root
D=$WORK/dest
M=$WORK/textfile
mkdir -p "$R/a" "$D" "$M"
for i in $(seq 20); do
    head -c $((i * 100)) /dev/urandom >"$R/a/f$i"
done
echo hidden >"$R/.hidden"
bad="amqp://guest:guest@127.0.0.1:$(free_port)/"

# --- scan -------------------------------------------------------------------------------
# A scan that cannot reach the broker, with no file before it: the gauge
# is there, 0 (never), so that "no success for an hour" fires.
run env AMQP_URL="$bad" "$SCAN" --queue "$q" --exchange "$ex" --metrics "$M/scan-main.prom" "$R"
expect_rc 69 "scan without a broker"
promcheck "$M/scan-main.prom" "scan without a broker"
expect_eq "$(mval "$M/scan-main.prom" scanmove_scan_last_success_timestamp_seconds)" 0 \
    "scan without a broker, never run before: last success 0"

t0=$(date +%s)
run env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" --no-mime --json \
    --metrics "$M/scan-main.prom" "$R"
expect_rc 0 "scan"
cp "$WORK/out" "$WORK/scan.json"
promcheck "$M/scan-main.prom" "scan"
mcheck "scan: counters = --json summary" scan "$M/scan-main.prom" "$WORK/scan.json"
expect_eq "$(mval "$M/scan-main.prom" scanmove_scan_files_total outcome=published)" 20 \
    "scan: 20 published"
expect_eq "$(mval "$M/scan-main.prom" scanmove_scan_files_total outcome=rejected reason=hidden)" \
    1 "scan: 1 rejected as hidden"
expect_eq "$(mval "$M/scan-main.prom" scanmove_scan_files_total worker=scan-main queue="$q" \
    outcome=published)" 20 "scan: labels queue and worker (the file's base name)"
expect_eq "$(mval "$M/scan-main.prom" scanmove_queue_messages)" 20 "scan: the queue's depth"
expect_eq "$(mval "$M/scan-main.prom" scanmove_broker_reconnects_total tool=scan)" 0 \
    "scan: no reconnects"
last=$(mval "$M/scan-main.prom" scanmove_scan_last_success_timestamp_seconds)
checks=$((checks + 1))
between "$t0" "$last" "$(($(date +%s) + 1))" || fail "scan: last success $last is not now ($t0)"

# A failed run keeps the last success of the one before.
run env AMQP_URL="$bad" "$SCAN" --queue "$q" --exchange "$ex" --metrics "$M/scan-main.prom" "$R"
expect_rc 69 "scan without a broker, after a success"
promcheck "$M/scan-main.prom" "scan without a broker, after a success"
expect_eq "$(mval "$M/scan-main.prom" scanmove_scan_last_success_timestamp_seconds)" "$last" \
    "scan without a broker: the last success is kept"

# The same files again (no marks): each is a duplicate for the mover.
run env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" --no-mime --no-mark -q "$R"
expect_rc 0 "scan again, --no-mark"
# A message from a scan before published_at (moved, not in the histogram)
# and one that is not JSON (dead-lettered as malformed-json).
echo old >"$R/a/old"
"$PY3" "$PY" msg "$WORK/old.json" "$(realpath "$R")" a/old "$R/a/old" published_at=-
printf 'not json' >"$WORK/bad.json"
publish "$WORK/old.json" "$WORK/bad.json"

# --- move -------------------------------------------------------------------------------
# 42 messages: 21 moved, 20 duplicates, 1 dead letter; then idle, rewriting
# the file every second until --idle-exit.
env AMQP_URL="$url" timeout 90 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
    --idle-exit 5s --json --metrics "$M/move-w1.prom" --metrics-interval 1s \
    >"$WORK/move.json" 2>"$WORK/move.err" &
pid=$!
bg_pids+=("$pid")
wait_until 10 "move writes its metrics file while it runs" test -s "$M/move-w1.prom" || true
i1=$(stamp "$M/move-w1.prom")
wait_until 4 "move rewrites its metrics file every --metrics-interval" \
    changed "$M/move-w1.prom" "$i1" || true
checks=$((checks + 1))
kill -0 "$pid" 2>/dev/null || fail "move: the file was rewritten only at exit"
# The queue's counts, asked for every interval, count the mover itself.
counts_itself() { [ "$(mval "$M/move-w1.prom" scanmove_queue_consumers)" = 1 ]; }
wait_until 4 "move: the queue's consumers in the file while it runs: itself" counts_itself || true
wait_pid "$pid" 60 "move --idle-exit 5s"
expect_eq "$rc" 1 "move: exit 1 (a dead letter)"
promcheck "$M/move-w1.prom" "move"
pycheck "move: --json summary" jcheck "$WORK/move.json" moved=21 duplicates=20 dead_lettered=1 \
    skipped=0 requeued=0
mcheck "move: counters = --json summary, 40 latencies" move "$M/move-w1.prom" "$WORK/move.json" 40
expect_eq "$(mval "$M/move-w1.prom" scanmove_move_dead_letters_total reason=malformed-json)" 1 \
    "move: the dead letter by reason"
expect_eq "$(mval "$M/move-w1.prom" scanmove_move_files_total worker=move-w1 queue="$q" \
    result=moved)" 21 "move: labels queue and worker (the file's base name)"
expect_eq "$(mval "$M/move-w1.prom" scanmove_move_bytes_total)" \
    "$(find "$D" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')" \
    "move: bytes moved"
expect_eq "$(mval "$M/move-w1.prom" scanmove_move_copy_bytes_total)" 0 \
    "move: no copy on one file system"
expect_eq "$(mval "$M/move-w1.prom" scanmove_broker_reconnects_total tool=move)" 0 \
    "move: no reconnects"
expect_eq "$(mval "$M/move-w1.prom" scanmove_queue_consumers)" 0 \
    "move: the queue's consumers at exit, without itself"
expect_eq "$(mval "$M/move-w1.prom" scanmove_queue_messages)" 0 "move: the queue's depth at exit"
expect_eq "$(mval "$M/move-w1.prom" scanmove_queue_dead_letter_messages)" 1 \
    "move: the dead-letter queue's depth"
mlast=$(mval "$M/move-w1.prom" scanmove_move_last_success_timestamp_seconds)
checks=$((checks + 1))
between "$t0" "$mlast" "$(($(date +%s) + 1))" || fail "move: last success $mlast is not now"

# --- SIGHUP: the file now, whatever the interval; a reconnect; the last success kept ----
env AMQP_URL="$url" timeout 90 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
    --idle-exit 20s --metrics "$M/move-w1.prom" --metrics-interval 1h \
    >"$WORK/hup.out" 2>"$WORK/hup.err" &
pid=$!
bg_pids+=("$pid")
i1=$(stamp "$M/move-w1.prom")
has_consumer() { [ "$(consumers)" = 1 ]; }
wait_until 10 "move consumes" has_consumer || true
sleep 1
expect_eq "$(stamp "$M/move-w1.prom")" "$i1" "move: nothing written before the interval is over"
# The broker drops the mover's connections; it connects again.
ctl close_all_connections "test_metrics" >/dev/null 2>&1 || fail "rabbitmqctl close_all_connections"
no_consumer() { [ "$(consumers)" = 0 ]; }
wait_until 10 "the broker closes the mover's connection" no_consumer || true
wait_until 30 "move reconnects" has_consumer || true
kill -HUP "$pid"
wait_until 5 "move rewrites its metrics file on SIGHUP" changed "$M/move-w1.prom" "$i1" || true
expect_eq "$(mval "$M/move-w1.prom" scanmove_broker_reconnects_total tool=move)" 1 \
    "move: one reconnect counted"
checks=$((checks + 1))
kill -0 "$pid" 2>/dev/null || fail "move: SIGHUP ended it"
i1=$(stamp "$M/move-w1.prom")
kill -TERM "$pid"
wait_pid "$pid" 30 "move after SIGTERM"
expect_eq "$rc" 0 "move: exit 0 after SIGTERM"
checks=$((checks + 1))
changed "$M/move-w1.prom" "$i1" || fail "move: no metrics written at exit"
promcheck "$M/move-w1.prom" "move after SIGHUP"
expect_eq "$(mval "$M/move-w1.prom" scanmove_move_files_total)" 0 "move: a new run counts anew"
expect_eq "$(mval "$M/move-w1.prom" scanmove_move_last_success_timestamp_seconds)" "$mlast" \
    "move: a run that moved nothing keeps the last success of the one before"

expect_eq "$(ls -A "$M" | sort | tr '\n' ' ')" "move-w1.prom scan-main.prom " \
    "no temporary file left in the textfile directory"
finish
