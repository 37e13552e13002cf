#!/usr/bin/env bash
# bench/move.sh - throughput and memory benchmark of `move` (see bench/README.md).
#
# Usage: bench/move.sh [N]          (N files, default 200000)
#
# Builds (or reuses) a corpus of N real files with bench/mkcorpus.sh, copies
# it once into a work tree (the corpus itself is never modified), starts (or
# reuses) the private broker of tests/broker.sh, builds scan and move, and
# times these runs over the copy:
#   a) 1 move process
#   b) 2 move processes       in parallel, on the same queue
#   c) 4 move processes
#   d) amqp-consume           rabbitmq-c's own consumer (amqp-tools), running
#                             sh + sed + mv once per message: the baseline,
#                             over a subset of BENCH_BASELINE_N messages
# Before each run, scan --no-mime --requeue-after 0 publishes one message
# per file of the copy (whatever marks the files carry) into a fresh queue
# of the run's own; the movers then empty it, moving every file from the
# source to the destination tree (one filesystem, so every move is a
# rename). The script checks that every file was moved exactly once and
# lost its mark, deletes the run's queues and exchanges, and moves the
# files back for the next run. Before and after the mover runs of every trial,
# bench/ceiling.c measures the ceiling of the movers on this broker and
# filesystem (consumers that rename a file per message and acknowledge),
# and its two shares (consuming alone, renaming alone). Prints files/s and
# peak RSS of each run, the ceilings, and whether the targets (ratios) are
# met. Exits 0 even when a target is missed (it is a report); non-zero
# only when it cannot run at all.
#
# Environment:
#   BENCH_DIR            corpus and results (default /tmp/scanmove-bench)
#   BENCH_WORK           where the work tree (source and destination) is made
#                        (default BENCH_DIR); needs room for a copy of the corpus
#   BUILD_DIR            CMake build directory, relative to the source tree
#                        or absolute (default build)
#   SCANMOVE_BROKER_DIR  state dir of the private broker (tests/broker.sh)
#   BENCH_QUEUE_TYPE     quorum (default, as in production) or classic
#   BENCH_MOVERS         move processes of each mover run (default "1 2 4")
#   BENCH_BASELINE_N     messages the baseline handles (default 5000, at most N)
#   BENCH_REPEAT         run the measurements R times, interleaved
#                        (a b c d a b c d ...), and report the best files/s
#                        and the highest peak RSS of each (default 1)
#   BENCH_MOVE_ARGS      extra arguments for every move process (word-split),
#                        e.g. "--prefetch 128" or "--fsync"; in it, %i is
#                        the mover's number (for a --metrics file of its own)
#   BENCH_NOTIFY         1: run the movers as systemd's Type=notify would,
#                        with NOTIFY_SOCKET (a datagram sink of this script's)
#                        and WATCHDOG_USEC=30000000
#   BENCH_LAYOUT         1: the movers place files with --layout
#                        '{root_name}/{path}' (expanded for every message;
#                        the files are taken back from DEST/<root name>);
#                        or a template that keeps each file's relative path
#                        on the corpus, such as '{dir}/{name}' (every file of
#                        mkcorpus.sh's corpus is in a subdirectory)
#   BENCH_EVENTS         1: the movers publish a moved event per file
#                        (--publish-moved) to a topic exchange with one queue
#                        bound, which must hold N events after each run
#                        (emptied between runs)
#   BENCH_EVENTS_QUEUE   the type of that queue: quorum (default) or classic
set -eu

PROG=move.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
BENCH_WORK=${BENCH_WORK:-$BENCH_DIR}
BASELINE_N=${BENCH_BASELINE_N:-5000}
read -r -a MOVERS <<<"${BENCH_MOVERS:-1 2 4}"
read -r -a EXTRA_ARGS <<<"${BENCH_MOVE_ARGS:-}"
IDLE_MS=500          # move --idle-exit; subtracted from the wall time
BASELINE_PREFETCH=32 # amqp-consume -p
CEILING_K=2          # consumers and renaming threads of the ceilings: the movers of the target run

# Targets (bench/README.md).
FLOOR_CEILING=0.6 # x the ceiling of the movers (consume, rename, ack), with 2 movers
TARGET_RATIO=50   # x the baseline's files/s, with 2 movers
TARGET_RSS_MIB=16 # every move process

case "$BASELINE_N" in '' | *[!0-9]* | 0) die "BENCH_BASELINE_N must be a positive number" ;; esac
[ "$BASELINE_N" -le "$N" ] || BASELINE_N=$N
if [ "${#MOVERS[@]}" -lt 1 ] || [ "${#MOVERS[@]}" -gt 8 ]; then
    die "BENCH_MOVERS must list 1 to 8 numbers of move processes"
fi
for k in "${MOVERS[@]}"; do
    case "$k" in *[!0-9]* | 0*) die "BENCH_MOVERS: '$k' is not a positive number" ;; esac
done

need "$TIME" time
need python3 python3
need amqp-consume amqp-tools
build scan move
mkdir -p "$BENCH_DIR" "$BENCH_WORK"
"$SRC_DIR/bench/mkcorpus.sh" "$CORPUS" "$N"
start_broker
TREE=$(mktemp -d "$BENCH_WORK/scanmove-move.XXXXXX")
TREE=$(cd "$TREE" && pwd -P) # scan puts the real path in the messages
FROM=$TREE/src
TO=$TREE/dst
RUNNING=() # /usr/bin/time processes of the movers of the current run

# The consume ceiling uses move's prefetch and scan's confirm window.
PREFETCH=$(option_in --prefetch "$(default_of "$MOVE" --prefetch)" "${EXTRA_ARGS[@]}")
[ -n "$PREFETCH" ] || die "cannot read move's default --prefetch from move --help"
WINDOW=$(default_of "$SCAN" --confirm-window)
[ -n "$WINDOW" ] || die "cannot read scan's default --confirm-window from scan --help"

# Interrupted during a run: stop its movers (time(1) does not pass a
# signal on to its child, so signal the child too).
# shellcheck disable=SC2317 # called from the EXIT trap
stop_movers() {
    local p
    for p in "${RUNNING[@]}"; do
        pkill -TERM -P "$p" 2>/dev/null || true
        kill -TERM "$p" 2>/dev/null || true
    done
    RUNNING=()
}
trap 'stop_movers; [ -z "${SINK_PID:-}" ] || kill "$SINK_PID" 2>/dev/null; cleanup; rm -rf "$WORK" "$TREE"' EXIT
trap 'exit 130' INT TERM

# The service manager's end of sd_notify, for BENCH_NOTIFY=1: a datagram
# sink that counts what it gets.
NOTIFY_ENV=(env)
if [ "${BENCH_NOTIFY:-0}" = 1 ]; then
    python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
n = 0
while True:
    s.recv(4096)
    n += 1
    if n % 100 == 0:
        open(sys.argv[1] + ".count", "w").write("%d\n" % n)
' "$WORK/notify.sock" &
    SINK_PID=$!
    NOTIFY_ENV=(env NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=30000000)
fi

# --publish-moved's exchange and the queue its events go to, for
# BENCH_EVENTS=1: declared once (pika, as the tests do), deleted at exit.
EVENTS_X=scanmove-bench-events
if [ "${BENCH_EVENTS:-0}" = 1 ]; then
    python3 - "$URL" "$EVENTS_X" "${BENCH_EVENTS_QUEUE:-quorum}" <<'PY' || die "cannot declare the events exchange (python3-pika?)"
import sys, pika
c = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))
ch = c.channel()
ch.exchange_declare(sys.argv[2], "topic", durable=True)
ch.queue_declare(sys.argv[2], durable=True, arguments={"x-queue-type": sys.argv[3]})
ch.queue_bind(sys.argv[2], sys.argv[2], routing_key="#")
c.close()
PY
    EXTRA_ARGS+=(--publish-moved "$EVENTS_X")
    trap 'stop_movers; [ -z "${SINK_PID:-}" ] || kill "$SINK_PID" 2>/dev/null; ctl delete_queue "$EVENTS_X" >/dev/null 2>&1; delete_exchange "$EVENTS_X"; cleanup; rm -rf "$WORK" "$TREE"' EXIT
fi
case ${BENCH_LAYOUT:-0} in
0) ;;
1) EXTRA_ARGS+=(--layout '{root_name}/{path}') ;;
*) EXTRA_ARGS+=(--layout "$BENCH_LAYOUT") ;;
esac

# --------------------------------------------------------- the copy --

# The movers move the files of a copy (copy_corpus, bench/lib.sh); the
# corpus stays pristine for scan.sh and later runs.
copy_corpus

# ------------------------------------------------------------ cache --

# Renames hardly read file data, but the scan before each run stats every
# file: start all runs from the same warm cache (dentries, inodes, data).
say "warming the page cache: reading every file of $FROM once"
find "$FROM" -type f -print0 | xargs -0 -P "$(nproc)" -n 500 cat >/dev/null
CACHE_NOTE="warm: every file of the copy read once before the runs"

# ------------------------------------------------------------- runs --

# Run letters: one per entry of BENCH_MOVERS, then the baseline.
LETTERS=(a b c d e f g h i)
B=${LETTERS[${#MOVERS[@]}]}

# Results, by run letter.
declare -A R_K=() R_FILES=() R_SECS=() R_RATE=() R_RSS=() R_NOTE=() R_QUEUE=() R_OK=()
declare -A R_TRIALS=() R_BROKER=()

# keep LETTER SECONDS RSS-KIB FILES RATE IN-QUEUE: record a trial; the best
# files/s wins, the peak RSS is the highest of all trials.
keep() {
    local r=$1
    R_TRIALS[$r]+="${R_TRIALS[$r]:+, }$5"
    if [ -z "${R_RATE[$r]:-}" ] || [ "$5" -gt "${R_RATE[$r]}" ]; then
        R_SECS[$r]=$2 R_FILES[$r]=$4 R_RATE[$r]=$5 R_QUEUE[$r]=$6
    fi
    if [ -z "${R_RSS[$r]:-}" ] || [ "$3" -gt "${R_RSS[$r]}" ]; then
        R_RSS[$r]=$3
    fi
    : "${R_OK[$r]:=1}"
}

# broker_used LETTER CPU-BEFORE: record the broker's CPU seconds since then.
broker_used() {
    R_BROKER[$1]+="${R_BROKER[$1]:+, }$(awk -v a="$2" -v b="$(broker_cpu)" 'BEGIN { printf "%.1f", b - a }')"
}

# publish LETTER QUEUE: scan --no-mime the source tree into a fresh queue
# and exchange named QUEUE; the queue must then hold exactly N messages.
# Every run publishes every file again on purpose, but scan skips a file
# whose mark (scan(1) MARKS) says its message still waits, and the files
# keep their marks where no mover took them: those the baseline left, a
# failed run's, the copy's if the corpus had any. --requeue-after 0 ignores
# the marks and still writes them, as a production scan does, so that the
# movers remove them on arrival as they do in production.
publish() {
    local r=$1 q=$2 rc pub
    CREATED_QUEUES+=("$q" "$q.dead")
    CREATED_EXCHANGES+=("$q" "$q.dlx")
    set +e
    AMQP_URL=$URL "$SCAN" -q --no-mime --json --requeue-after 0 --exchange "$q" --queue "$q" \
        --routing-key "$q" --queue-type "$QUEUE_TYPE" "$FROM" \
        >"$WORK/$r.scan.json" 2>"$WORK/$r.scan.err"
    rc=$?
    set -e
    pub=$(json_num "$WORK/$r.scan.json" published)
    if [ "$rc" -ne 0 ] || [ "${pub:-0}" -ne "$N" ]; then
        fail "$r" "scan exit $rc, published ${pub:-?} of $N: $(tail -n 2 "$WORK/$r.scan.err" | tr '\n' ' ')"
        return 1
    fi
    wait_queue "$q" "$N" || {
        fail "$r" "after publishing, the queue holds ${INQ:-no queue} messages, not $N"
        return 1
    }
}

# mover_failed LETTER I RC: run LETTER failed, its mover I exited RC.
# shellcheck disable=SC2317 # called by wait_movers
mover_failed() { fail "$1" "mover $2 exit $3: $(tail -n 2 "$WORK/$1.$2.err" | tr '\n' ' ')"; }

# run_move LETTER TRIAL MOVERS
run_move() {
    local r=$1 t=$2 k=$3 q i f rc t0 t1 cpu0 secs rss=0 m moved=0 skipped=0 dup=0 dead=0 ns nd
    q=scanmove-bench-$RUN_ID-$r$t
    R_K[$r]=$k
    say "run $r (trial $t of $REPEAT): publishing $N messages, then $k x move${EXTRA_ARGS[*]:+ ${EXTRA_ARGS[*]}}"
    if publish "$r" "$q"; then
        cpu0=$(broker_cpu)
        t0=$(now)
        for i in $(seq 1 "$k"); do
            AMQP_URL=$URL "${NOTIFY_ENV[@]}" "$TIME" -f '%e %M' -o "$WORK/$r.$i.time" \
                "$MOVE" -q --json --from "$FROM" --to "$TO" --idle-exit "${IDLE_MS}ms" \
                --exchange "$q" --queue "$q" --routing-key "$q" --queue-type "$QUEUE_TYPE" \
                "${EXTRA_ARGS[@]//%i/$i}" >"$WORK/$r.$i.json" 2>"$WORK/$r.$i.err" &
            RUNNING+=("$!")
        done
        wait_movers mover_failed "$r"
        t1=$(now)
        RUNNING=()
        broker_used "$r" "$cpu0"
        # Each mover exits once it has seen no message for IDLE_MS; that
        # tail is not moving.
        secs=$(awk -v a="$t0" -v b="$t1" -v i="$IDLE_MS" 'BEGIN { printf "%.2f", b - a - i / 1000 }')
        if [ "${BENCH_LAYOUT:-0}" = 1 ] && [ -d "$TO/${FROM##*/}" ]; then
            mv "$TO" "$TO.layout" && mv "$TO.layout/${FROM##*/}" "$TO" && rmdir "$TO.layout"
        fi
        if [ "${BENCH_EVENTS:-0}" = 1 ]; then
            wait_queue "$EVENTS_X" "$N" || fail "$r" "${INQ:-no} moved events for $N files"
            ctl purge_queue "$EVENTS_X" >/dev/null 2>&1 || true
        fi
        for i in $(seq 1 "$k"); do
            read -r _ m < <(tail -n 1 "$WORK/$r.$i.time")
            [ "${m:-0}" -le "$rss" ] || rss=$m
            f=$WORK/$r.$i.json
            m=$(json_num "$f" moved) && moved=$((moved + ${m:-0}))
            m=$(json_num "$f" skipped) && skipped=$((skipped + ${m:-0}))
            m=$(json_num "$f" duplicates) && dup=$((dup + ${m:-0}))
            m=$(json_num "$f" dead_lettered) && dead=$((dead + ${m:-0}))
        done
        if [ "$moved" -ne "$N" ] || [ "$skipped" -ne 0 ] || [ "$dup" -ne 0 ] || [ "$dead" -ne 0 ]; then
            fail "$r" "moved $moved of $N, skipped $skipped, duplicates $dup, dead-lettered $dead"
        fi
        wait_queue "$q" 0 || fail "$r" "the queue holds ${INQ:-no queue} messages after the run"
        [ "$(queue_messages "$q.dead")" = 0 ] || fail "$r" "the dead-letter queue is not empty"
        ns=$(count_files "$FROM")
        nd=$(count_files "$TO")
        if [ "$ns" -ne 0 ] || [ "$nd" -ne "$N" ]; then
            fail "$r" "$nd files in the destination, $ns left in the source"
        fi
        # scan marked every file it published; a mover removes the mark
        # when the file arrives.
        m=$(marks "$TO" count) || m='?'
        [ "$m" = 0 ] || fail "$r" "$m files in the destination still carry scan's mark"
        keep "$r" "$secs" "$rss" "$moved" "$(rate "$moved" "$secs")" "${INQ:-none}"
    fi
    cleanup
    restore
    sleep 2 # let the broker finish deleting before the next run
}

# The baseline's command, run by amqp-consume once per message with the
# body on its standard input. The body is the compact JSON message of
# docs/message-format.md; the names mkcorpus.sh makes are plain ASCII
# without quotes or backslashes, so sed can pick "path" (relative to the
# root, which is FROM) out of it. A real consumer would need a JSON parser.
# shellcheck disable=SC2016 # expanded by the inner sh
BASELINE_SH='p=$(sed -n "s/.*\"path\":\"\([^\"]*\)\".*/\1/p")
[ -n "$p" ] || exit 1
d=${p%/*}
[ "$d" = "$p" ] || [ -d "$BENCH_TO/$d" ] || mkdir -p "$BENCH_TO/$d"
exec mv "$BENCH_FROM/$p" "$BENCH_TO/$p"'

# run_baseline LETTER TRIAL
run_baseline() {
    local r=$1 t=$2 q rc t0 t1 cpu0 secs rss ns nd
    q=scanmove-bench-$RUN_ID-$r$t
    say "run $r (trial $t of $REPEAT): publishing $N messages, then amqp-consume -c $BASELINE_N sh -c 'sed; mv'"
    if publish "$r" "$q"; then
        cpu0=$(broker_cpu)
        t0=$(now)
        set +e
        # "--": amqp-consume's option parser would take sh's -c for its own.
        BENCH_FROM=$FROM BENCH_TO=$TO "$TIME" -f '%e %M' -o "$WORK/$r.time" \
            amqp-consume --url="$URL" -q "$q" -p "$BASELINE_PREFETCH" -c "$BASELINE_N" \
            -- sh -c "$BASELINE_SH" >"$WORK/$r.out" 2>"$WORK/$r.err"
        rc=$?
        set -e
        t1=$(now)
        broker_used "$r" "$cpu0"
        secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
        # %M: the largest single process (amqp-consume itself, or one of
        # the commands it ran).
        read -r _ rss < <(tail -n 1 "$WORK/$r.time")
        [ "$rc" -eq 0 ] ||
            fail "$r" "amqp-consume exit $rc: $(grep -v '^Command exited' "$WORK/$r.err" | tail -n 2 | tr '\n' ' ')"
        ns=$(count_files "$FROM")
        nd=$(count_files "$TO")
        if [ "$nd" -ne "$BASELINE_N" ] || [ "$ns" -ne $((N - BASELINE_N)) ]; then
            fail "$r" "$nd files in the destination and $ns in the source, not $BASELINE_N and $((N - BASELINE_N))"
        fi
        # The messages it had prefetched but not handled go back to the
        # queue when it closes the channel.
        wait_queue "$q" $((N - BASELINE_N)) ||
            fail "$r" "the queue holds ${INQ:-no queue} messages after the run, not $((N - BASELINE_N))"
        keep "$r" "$secs" "${rss:-0}" "$nd" "$(rate "$nd" "$secs")" "${INQ:-none}"
    fi
    cleanup
    restore
    sleep 2
}

# run_ceilings TRIAL: what this broker and filesystem manage at the work
# of the movers, just before the runs of each trial, with CEILING_K
# consumers or threads and move's prefetch, over N messages of the size
# scan makes for the copy (published with confirms, which gives the
# publish ceiling as well): the broker's consume and acknowledge rate, the
# same with a rename per message (the ceiling of the movers), and the
# filesystem's rename rate alone.
run_ceilings() {
    local q=scanmove-bench-$RUN_ID-C$1
    say "ceilings (trial $1 of $REPEAT)"
    if ceiling_publish "$q" "$N" "$MSG_BYTES" "$WINDOW"; then
        ceiling_consume "$q" "$N" "$PREFETCH" "$CEILING_K" || true
    else
        C_NOTE[consume]+=" not measured: publishing failed;"
    fi
    cleanup
    if ceiling_publish "$q-m" "$N" "$MSG_BYTES" "$WINDOW"; then
        ceiling_mover "$q-m" "$N" "$PREFETCH" "$CEILING_K" "$FROM" "$TO" || true
    else
        C_NOTE[move]+=" not measured: publishing failed;"
    fi
    cleanup
    restore
    ceiling_rename "$FROM" "$TO" "$CEILING_K" || true
    restore
    sleep 2
}

MSG_BYTES=$(message_size "$FROM")
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for t in $(seq 1 "$REPEAT"); do
    # Before and after the movers: a short disturbance lowers at most
    # one of the two, and the best is kept.
    run_ceilings "$t"
    for i in "${!MOVERS[@]}"; do
        run_move "${LETTERS[$i]}" "$t" "${MOVERS[$i]}"
    done
    run_ceilings "$t"
    run_baseline "$B" "$t"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ----------------------------------------------------------- report --

base=${R_RATE[$B]:-0}
C_RATE[baseline]=$base
declare -A LABEL=()
for i in "${!MOVERS[@]}"; do
    r=${LETTERS[$i]}
    LABEL[$r]="$r) move x ${MOVERS[$i]}"
done
LABEL[$B]="$B) amqp-consume + mv (baseline)"
# The run with 2 movers, which the throughput targets are about.
T=
for i in "${!MOVERS[@]}"; do
    [ "${MOVERS[$i]}" != 2 ] || T=${LETTERS[$i]}
done

report() {
    local r
    printf 'move benchmark: %d files, a copy of %s\n' "$N" "$CORPUS"
    report_machine "$MOVE"
    printf '  move -q --json --idle-exit %sms%s\n' "$IDLE_MS" "${EXTRA_ARGS[*]:+ ${EXTRA_ARGS[*]}}"
    if [ "${BENCH_NOTIFY:-0}" = 1 ]; then
        printf '  with NOTIFY_SOCKET and WATCHDOG_USEC=30000000 (the sink got %s datagrams)\n' \
            "$(cat "$WORK/notify.sock.count" 2>/dev/null || echo 'under 100')"
    fi
    printf '  source and destination: %s/{src,dst}, one %s filesystem (every move a rename)\n' \
        "$TREE" "$FS_TYPE"
    printf '  baseline: amqp-consume -p %s over %s of the %s messages, sh + sed + mv per message\n' \
        "$BASELINE_PREFETCH" "$BASELINE_N" "$N"
    printf '  cache: %s\n' "$CACHE_NOTE"
    report_load move
    echo
    printf '%-34s %7s %8s %8s %9s %9s %11s %10s\n' run movers files seconds files/s 'RSS MiB' \
        'x baseline' 'x ceiling'
    for r in "${LETTERS[@]:0:${#MOVERS[@]}}" "$B"; do
        printf '%-34s %7s %8s %8s %9s %9s %11s %10s\n' "${LABEL[$r]}" "${R_K[$r]:-1}" \
            "${R_FILES[$r]:--}" "${R_SECS[$r]:--}" "${R_RATE[$r]:--}" \
            "$([ -z "${R_RSS[$r]:-}" ] || mib "${R_RSS[$r]}")" \
            "$(ratio "${R_RATE[$r]:-0}" "$base")" \
            "$(if [ "$r" = "$B" ]; then echo -; else ratio "${R_RATE[$r]:-0}" "${C_RATE[move]:-0}" 2; fi)"
    done
    echo
    report_ceilings \
        move "the movers' ceiling: $CEILING_K consumers, prefetch $PREFETCH, renaming a file per message of $MSG_BYTES bytes and acknowledging as move does" \
        consume "the broker alone: the same without renaming" \
        rename "the filesystem alone: $CEILING_K threads renaming the $N files of src into dst" \
        publish "publishing the messages for the two first, confirm window $WINDOW"
    printf '\n  files/s = files moved / seconds; for the movers, seconds is the wall time of the\n'
    printf '  whole group (start to the last exit) less the %s ms each waits on the empty queue\n' "$IDLE_MS"
    printf '  before --idle-exit; the baseline exits after its %s messages (no idle tail).\n' "$BASELINE_N"
    printf '  RSS is the peak of the largest move process of the run (baseline: of its largest\n'
    printf '  single process); "x baseline" = files/s / the baseline'"'"'s files/s; "x ceiling" =\n'
    printf '  files/s / the ceiling of the movers, measured by bench/ceiling.c before and after\n'
    printf '  the mover runs of each trial (the best of them).\n'
    for r in "${LETTERS[@]:0:${#MOVERS[@]}}" "$B"; do
        printf '  %s: queue held %s messages after the run; broker CPU while moving: %s s\n' \
            "$r" "${R_QUEUE[$r]:-?}" "${R_BROKER[$r]:-?}"
    done
    if [ "$REPEAT" -gt 1 ]; then
        for r in "${LETTERS[@]:0:${#MOVERS[@]}}" "$B"; do
            printf '  %s: files/s of each trial: %s\n' "$r" "${R_TRIALS[$r]:--}"
        done
    fi
    echo
    echo "Targets:"
    for r in "${LETTERS[@]:0:${#MOVERS[@]}}"; do
        check "${R_OK[$r]:-0}" "$r) every file moved exactly once, queue empty, no mark left${R_NOTE[$r]:+ --${R_NOTE[$r]}}"
    done
    check "${R_OK[$B]:-0}" "$B) amqp-consume moved its $BASELINE_N files${R_NOTE[$B]:+ --${R_NOTE[$B]}}"
    if [ -n "$T" ]; then
        check_ratio "$T) with 2 movers" "${R_RATE[$T]:-}" move "the ceiling of the movers" "$FLOOR_CEILING"
        check_ratio "$T) with 2 movers" "${R_RATE[$T]:-}" baseline "the baseline" "$TARGET_RATIO"
    else
        printf '  n/a     throughput targets: no run with 2 movers (BENCH_MOVERS=%s)\n' "${MOVERS[*]}"
    fi
    for r in "${LETTERS[@]:0:${#MOVERS[@]}}"; do
        check_rss "$r)" "${R_RSS[$r]:-}" "$TARGET_RSS_MIB"
    done
    report_end
}

save_report "$BENCH_DIR/move-$N-$RUN_ID.txt"
exit 0
