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
# Before each run, scan --no-mime publishes one message per file of the copy
# into a fresh queue of the run's own; the movers then empty it, moving every
# file from the source to the destination tree (one filesystem, so every
# move is a rename). The script checks that every file was moved exactly
# once, deletes the run's queues and exchanges, and moves the files back for
# the next run. Prints files/s and peak RSS of each run and whether the
# targets are met. Exits 0 even when a target is missed (it is a report);
# non-zero only when it cannot run at all.
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
#                        e.g. "--prefetch 128" or "--fsync"
set -eu

PROG=move.sh
SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-200000}
BENCH_DIR=${BENCH_DIR:-/tmp/scanmove-bench}
BENCH_WORK=${BENCH_WORK:-$BENCH_DIR}
BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$SRC_DIR/$BUILD_DIR ;; esac
QUEUE_TYPE=${BENCH_QUEUE_TYPE:-quorum}
REPEAT=${BENCH_REPEAT:-1}
BASELINE_N=${BENCH_BASELINE_N:-5000}
read -r -a MOVERS <<<"${BENCH_MOVERS:-1 2 4}"
read -r -a EXTRA_ARGS <<<"${BENCH_MOVE_ARGS:-}"
BROKER_SH=$SRC_DIR/tests/broker.sh
SCAN=$BUILD_DIR/scanner/scan
MOVE=$BUILD_DIR/mover/move
CORPUS=$BENCH_DIR/corpus-$N
TIME=/usr/bin/time
IDLE_MS=500          # move --idle-exit; subtracted from the wall time
BASELINE_PREFETCH=32 # amqp-consume -p, the default of move --prefetch

# Targets (bench/README.md).
TARGET_RATE=25000 # files/s with 2 movers
TARGET_RATIO=50   # x the baseline's files/s, with 2 movers
TARGET_RSS_MIB=16 # every move process

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    say "$*"
    exit 1
}

case "$N" in '' | *[!0-9]* | 0) die "usage: $PROG [N]  (N a positive number of files)" ;; esac
case "$QUEUE_TYPE" in quorum | classic) ;; *) die "BENCH_QUEUE_TYPE must be quorum or classic" ;; esac
case "$REPEAT" in '' | *[!0-9]* | 0) die "BENCH_REPEAT must be a positive number" ;; esac
case "$BASELINE_N" in '' | *[!0-9]* | 0) die "BENCH_BASELINE_N must be a positive number" ;; esac
[ "$BASELINE_N" -le "$N" ] || BASELINE_N=$N
if [ "${#MOVERS[@]}" -lt 1 ] || [ "${#MOVERS[@]}" -gt 8 ]; then
    die "BENCH_MOVERS must list 1 to 8 numbers of move processes"
fi
for k in "${MOVERS[@]}"; do
    case "$k" in *[!0-9]* | 0*) die "BENCH_MOVERS: '$k' is not a positive number" ;; esac
done

# Broker settings of the caller must not redirect the benchmark.
unset AMQP_URL SCANMOVE_EXCHANGE SCANMOVE_QUEUE SCANMOVE_ROUTING_KEY SCANMOVE_QUEUE_TYPE \
    SCANMOVE_DELIVERY_LIMIT SCANMOVE_HEARTBEAT SCANMOVE_CACERT SCANMOVE_CONNECT_TIMEOUT \
    SCANMOVE_JOBS

# ------------------------------------------------------------ tools --

# need PROGRAM PACKAGE: install PACKAGE if PROGRAM is missing (root only).
need() {
    command -v "$1" >/dev/null && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        say "installing $2 ($1)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >&2 ||
            die "cannot install the '$2' package"
    else
        die "$1 is missing: apt-get install $2"
    fi
}
need "$TIME" time
need amqp-consume amqp-tools

# ------------------------------------------------------------ build --

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    say "configuring $BUILD_DIR (Release)"
    cmake -S "$SRC_DIR" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >&2
fi
# Always let CMake bring the tools up to date: timing a stale binary misleads.
cmake --build "$BUILD_DIR" --target scan move -j "$(nproc)" >&2 || die "cannot build scan and move"
[ -x "$SCAN" ] || die "no scan binary at $SCAN"
[ -x "$MOVE" ] || die "no move binary at $MOVE"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
sanitize=$(sed -n 's/^SANITIZE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
case "$build_type" in
    Release | RelWithDebInfo | MinSizeRel) ;;
    *) say "warning: $BUILD_DIR is a '${build_type:-unset}' build; figures will be pessimistic" ;;
esac
[ -z "$sanitize" ] || say "warning: $BUILD_DIR is built with sanitizers ($sanitize); figures will be pessimistic"

# ----------------------------------------------------------- corpus --

mkdir -p "$BENCH_DIR" "$BENCH_WORK"
"$SRC_DIR/bench/mkcorpus.sh" "$CORPUS" "$N"

# ----------------------------------------------------------- broker --

URL=$("$BROKER_SH" start) || die "cannot start the private broker (tests/broker.sh start)"
[ -n "$URL" ] || die "tests/broker.sh start printed no URL"

RUN_ID=$(date +%Y%m%d%H%M%S)-$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scanmove-bench.XXXXXX")
TREE=$(mktemp -d "$BENCH_WORK/scanmove-move.XXXXXX")
TREE=$(cd "$TREE" && pwd -P) # scan puts the real path in the messages
FROM=$TREE/src
TO=$TREE/dst
CREATED_QUEUES=()
CREATED_EXCHANGES=()
RUNNING=() # /usr/bin/time processes of the movers of the current run

ctl() { "$BROKER_SH" ctl "$@"; }

delete_exchange() {
    # rabbitmqctl has no delete_exchange; this is the internal call it
    # would make. Best effort: a leftover exchange is harmless.
    ctl eval "rabbit_exchange:delete(rabbit_misc:r(<<\"/\">>, exchange, <<\"$1\">>), false, <<\"bench\">>)." \
        >/dev/null 2>&1 || true
}

cleanup() {
    local q x
    for q in "${CREATED_QUEUES[@]}"; do
        ctl delete_queue "$q" >/dev/null 2>&1 || true
    done
    for x in "${CREATED_EXCHANGES[@]}"; do
        delete_exchange "$x"
    done
    CREATED_QUEUES=()
    CREATED_EXCHANGES=()
}

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
trap 'stop_movers; cleanup; rm -rf "$WORK" "$TREE"' EXIT
trap 'exit 130' INT TERM

# Messages in queue $1, or empty if it does not exist.
queue_messages() {
    ctl list_queues -q --no-table-headers name messages 2>/dev/null |
        awk -v q="$1" -F '\t' '$1 == q { print $2 }'
}

# wait_queue QUEUE COUNT: wait until QUEUE holds COUNT messages; a quorum
# queue may report its count a moment late, so ask a few times. Sets INQ
# to the last count seen (empty: no such queue).
wait_queue() {
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        INQ=$(queue_messages "$1")
        [ "${INQ:-x}" != "$2" ] || return 0
        sleep 1
    done
    return 1
}

# Regular files under $1.
count_files() { find "$1" -type f | wc -l; }

# --------------------------------------------------------- the copy --

# The movers move the files of a copy; the corpus stays pristine for
# scan.sh and later runs. Source and destination must be one filesystem,
# so that every move is a rename, as in production on one volume.
say "copying $CORPUS to $FROM"
cp -a "$CORPUS" "$FROM"
mkdir "$TO"
[ "$(stat -c %d "$FROM")" = "$(stat -c %d "$TO")" ] ||
    die "$FROM and $TO are on different filesystems"
FS_TYPE=$(stat -f -c %T "$TREE")
[ "$(count_files "$FROM")" -eq "$N" ] || die "the copy $FROM does not hold $N files"

# restore: put every file back into the source tree for the next run. The
# destination has the source's layout, so after a complete run it simply
# becomes the source; after a partial one (the baseline's subset, or a
# failed run) its files are linked back beside the unmoved ones (hard
# links: no data copied) and its names dropped.
restore() {
    local ns nd
    ns=$(count_files "$FROM")
    nd=$(count_files "$TO")
    if [ "$ns" -eq 0 ] && [ "$nd" -eq "$N" ]; then
        rm -rf "$FROM"
        mv "$TO" "$FROM"
    else
        [ "$nd" -eq 0 ] || cp -al "$TO/." "$FROM/" || die "cannot move the files of $TO back to $FROM"
        rm -rf "$TO"
    fi
    mkdir "$TO"
    ns=$(count_files "$FROM")
    [ "$ns" -eq "$N" ] || die "after moving the files back, $FROM holds $ns files instead of $N"
}

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

# CPU seconds the broker's VM has used so far (utime + stime).
broker_cpu() {
    local pid
    pid=$(cat "${SCANMOVE_BROKER_DIR:-/tmp/scanmove-broker-$(id -u)}/broker.pid" 2>/dev/null) &&
        awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$pid/stat" 2>/dev/null ||
        echo 0
}

# json_num FILE KEY: the number of a top-level "KEY": in the --json summary.
json_num() {
    grep -o "\"$2\":[-0-9.eE+]*" "$1" | head -n 1 | cut -d: -f2
}

# rate COUNT SECONDS -> files/s (integer)
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
now() { date +%s.%N; }

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

# fail LETTER TEXT: the run did not do all its work.
fail() {
    R_OK[$1]=0
    R_NOTE[$1]+=" $2;"
}

# broker_used LETTER CPU-BEFORE: record the broker's CPU seconds since then.
broker_used() {
    R_BROKER[$1]+="${R_BROKER[$1]:+, }$(awk -v a="$2" -v b="$(broker_cpu)" 'BEGIN { printf "%.1f", b - a }')"
}

# publish LETTER QUEUE: scan --no-mime the source tree into a fresh queue
# and exchange named QUEUE; the queue must then hold exactly N messages.
publish() {
    local r=$1 q=$2 rc pub
    CREATED_QUEUES+=("$q" "$q.dead")
    CREATED_EXCHANGES+=("$q" "$q.dlx")
    set +e
    AMQP_URL=$URL "$SCAN" -q --no-mime --json --exchange "$q" --queue "$q" --routing-key "$q" \
        --queue-type "$QUEUE_TYPE" "$FROM" >"$WORK/$r.scan.json" 2>"$WORK/$r.scan.err"
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
            AMQP_URL=$URL "$TIME" -f '%e %M' -o "$WORK/$r.$i.time" \
                "$MOVE" -q --json --from "$FROM" --to "$TO" --idle-exit "${IDLE_MS}ms" \
                --exchange "$q" --queue "$q" --routing-key "$q" --queue-type "$QUEUE_TYPE" \
                "${EXTRA_ARGS[@]}" >"$WORK/$r.$i.json" 2>"$WORK/$r.$i.err" &
            RUNNING+=("$!")
        done
        for i in "${!RUNNING[@]}"; do
            rc=0
            wait "${RUNNING[$i]}" || rc=$?
            [ "$rc" -eq 0 ] ||
                fail "$r" "mover $((i + 1)) exit $rc: $(tail -n 2 "$WORK/$r.$((i + 1)).err" | tr '\n' ' ')"
        done
        t1=$(now)
        RUNNING=()
        broker_used "$r" "$cpu0"
        # Each mover exits once it has seen no message for IDLE_MS; that
        # tail is not moving.
        secs=$(awk -v a="$t0" -v b="$t1" -v i="$IDLE_MS" 'BEGIN { printf "%.2f", b - a - i / 1000 }')
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

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for t in $(seq 1 "$REPEAT"); do
    for i in "${!MOVERS[@]}"; do
        run_move "${LETTERS[$i]}" "$t" "${MOVERS[$i]}"
    done
    run_baseline "$B" "$t"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ----------------------------------------------------------- report --

ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }

base=${R_RATE[$B]:-0}
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
    local r v m
    printf 'move benchmark: %d files, a copy of %s\n' "$N" "$CORPUS"
    printf '  machine: %s cores (%s), %s; %s queues on %s\n' "$(nproc)" \
        "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
        "$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)" \
        "$QUEUE_TYPE" "$URL"
    printf '  build: %s (%s%s); %s\n' "$MOVE" "${build_type:-?}" \
        "${sanitize:+, sanitizers $sanitize}" "$($MOVE --version 2>/dev/null | head -n 1)"
    printf '  move -q --json --idle-exit %sms%s\n' "$IDLE_MS" "${EXTRA_ARGS[*]:+ ${EXTRA_ARGS[*]}}"
    printf '  source and destination: %s/{src,dst}, one %s filesystem (every move a rename)\n' \
        "$TREE" "$FS_TYPE"
    printf '  baseline: amqp-consume -p %s over %s of the %s messages, sh + sed + mv per message\n' \
        "$BASELINE_PREFETCH" "$BASELINE_N" "$N"
    printf '  cache: %s\n' "$CACHE_NOTE"
    printf '  load average (1, 5, 15 min) before: %s, after: %s; other processes on the\n' \
        "$LOAD_BEFORE" "$LOAD_AFTER"
    printf '    machine skew the figures (the broker itself shares the cores with move)\n'
    [ "$REPEAT" -eq 1 ] ||
        printf '  %s trials each: best files/s, highest peak RSS\n' "$REPEAT"
    echo
    printf '%-34s %7s %8s %8s %9s %9s %11s\n' run movers files seconds files/s 'RSS MiB' 'x baseline'
    for r in "${LETTERS[@]:0:${#MOVERS[@]}}" "$B"; do
        printf '%-34s %7s %8s %8s %9s %9s %11s\n' "${LABEL[$r]}" "${R_K[$r]:-1}" \
            "${R_FILES[$r]:--}" "${R_SECS[$r]:--}" "${R_RATE[$r]:--}" \
            "$([ -z "${R_RSS[$r]:-}" ] || mib "${R_RSS[$r]}")" \
            "$(ratio "${R_RATE[$r]:-0}" "$base")"
    done
    printf '\n  files/s = files moved / seconds; for the movers, seconds is the wall time of the\n'
    printf '  whole group (start to the last exit) less the %s ms each waits on the empty queue\n' "$IDLE_MS"
    printf '  before --idle-exit; the baseline exits after its %s messages (no idle tail).\n' "$BASELINE_N"
    printf '  RSS is the peak of the largest move process of the run (baseline: of its largest\n'
    printf '  single process); "x baseline" = files/s / the baseline'"'"'s files/s.\n'
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
    check() { # check OK TEXT
        if [ "$1" = 1 ]; then
            printf '  PASS    %s\n' "$2"
        else
            printf '  MISSED  %s\n' "$2"
            missed=$((missed + 1))
        fi
    }
    missed=0
    for r in "${LETTERS[@]:0:${#MOVERS[@]}}"; do
        check "${R_OK[$r]:-0}" "$r) every file moved exactly once, queue empty${R_NOTE[$r]:+ --${R_NOTE[$r]}}"
    done
    check "${R_OK[$B]:-0}" "$B) amqp-consume moved its $BASELINE_N files${R_NOTE[$B]:+ --${R_NOTE[$B]}}"
    if [ -n "$T" ]; then
        v=0
        ge "${R_RATE[$T]:-0}" "$TARGET_RATE" && v=1
        check "$v" "$T) with 2 movers: ${R_RATE[$T]:--} files/s >= $TARGET_RATE"
        v=0
        [ "$base" -gt 0 ] && ge "${R_RATE[$T]:-0}" $((base * TARGET_RATIO)) && v=1
        check "$v" "$T) with 2 movers: ${R_RATE[$T]:--} files/s >= $TARGET_RATIO x baseline $base = $((base * TARGET_RATIO))"
    else
        printf '  n/a     throughput targets: no run with 2 movers (BENCH_MOVERS=%s)\n' "${MOVERS[*]}"
    fi
    for r in "${LETTERS[@]:0:${#MOVERS[@]}}"; do
        v=0 m='?'
        if [ -n "${R_RSS[$r]:-}" ]; then
            m=$(mib "${R_RSS[$r]}")
            lt "$m" "$TARGET_RSS_MIB" && v=1
        fi
        check "$v" "$r) peak RSS $m MiB < $TARGET_RSS_MIB MiB"
    done
    echo
    if [ "$missed" -eq 0 ]; then
        echo "All targets met."
    else
        echo "MISSED: $missed target(s) not met (see above)."
    fi
}

OUT=$BENCH_DIR/move-$N-$RUN_ID.txt
report | tee "$OUT"
say "report saved in $OUT"
say "the broker keeps running; stop it with: ${SCANMOVE_BROKER_DIR:+SCANMOVE_BROKER_DIR=$SCANMOVE_BROKER_DIR }tests/broker.sh stop"
exit 0
