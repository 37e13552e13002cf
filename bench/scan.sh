#!/usr/bin/env bash
# bench/scan.sh - throughput and memory benchmark of `scan` (see bench/README.md).
#
# Usage: bench/scan.sh [N]          (N files, default 200000)
#
# Builds (or reuses) a corpus of N real files with bench/mkcorpus.sh, starts
# (or reuses) the private broker of tests/broker.sh, builds scan, and times
# four runs over the same files:
#   a) scan --no-mime         no libmagic at all
#   b) scan                   the default: MIME type determined, put in the message
#   c) scan --mime '*/*'      a MIME rule (every file passes it)
#   d) file --mime-type       libmagic's own tool over the same files with
#                             xargs -P <cores>: the baseline
# Each scan run publishes into a fresh queue of its own, checks that the
# queue holds exactly the published (and confirmed) messages, and deletes
# its queues and exchanges afterwards. Prints files/s and peak RSS of each
# run and whether the targets are met. Exits 0 even when a target is
# missed (it is a report); non-zero only when it cannot run at all.
#
# Environment:
#   BENCH_DIR            corpus and results (default /tmp/scanmove-bench)
#   BUILD_DIR            CMake build directory, relative to the source tree
#                        or absolute (default build)
#   SCANMOVE_BROKER_DIR  state dir of the private broker (tests/broker.sh)
#   BENCH_QUEUE_TYPE     quorum (default, as in production) or classic
#   BENCH_JOBS           scan -j and xargs -P (default: nproc)
#   BENCH_CACHE          warm (default): every run reads from the page cache;
#                        cold: drop the page cache before each run (root only)
#   BENCH_REPEAT         run the four measurements R times, interleaved
#                        (a b c d a b c d ...), and report the best files/s
#                        and the highest peak RSS of each (default 1)
#   BENCH_SCAN_ARGS      extra arguments for every scan run (word-split)
set -eu

PROG=scan.sh
SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-200000}
BENCH_DIR=${BENCH_DIR:-/tmp/scanmove-bench}
BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$SRC_DIR/$BUILD_DIR ;; esac
QUEUE_TYPE=${BENCH_QUEUE_TYPE:-quorum}
JOBS=${BENCH_JOBS:-$(nproc)}
CACHE=${BENCH_CACHE:-warm}
REPEAT=${BENCH_REPEAT:-1}
read -r -a EXTRA_ARGS <<<"${BENCH_SCAN_ARGS:-}"
BROKER_SH=$SRC_DIR/tests/broker.sh
SCAN=$BUILD_DIR/scanner/scan
CORPUS=$BENCH_DIR/corpus-$N
TIME=/usr/bin/time

# Targets (bench/README.md).
TARGET_NOMIME_RATE=30000 # files/s, run a
TARGET_MIME_RATIO=0.9    # x the baseline's files/s, run c
TARGET_RSS_MIB=64        # every scan run, for 200,000 files

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    say "$*"
    exit 1
}

case "$N" in '' | *[!0-9]* | 0) die "usage: $PROG [N]  (N a positive number of files)" ;; esac
case "$QUEUE_TYPE" in quorum | classic) ;; *) die "BENCH_QUEUE_TYPE must be quorum or classic" ;; esac
case "$CACHE" in warm | cold) ;; *) die "BENCH_CACHE must be warm or cold" ;; esac
case "$REPEAT" in '' | *[!0-9]* | 0) die "BENCH_REPEAT must be a positive number" ;; esac

# Broker settings of the caller must not redirect the benchmark.
unset AMQP_URL SCANMOVE_EXCHANGE SCANMOVE_QUEUE SCANMOVE_ROUTING_KEY SCANMOVE_QUEUE_TYPE \
    SCANMOVE_DELIVERY_LIMIT SCANMOVE_HEARTBEAT SCANMOVE_CACERT SCANMOVE_CONNECT_TIMEOUT \
    SCANMOVE_JOBS

# ------------------------------------------------------------ tools --

if [ ! -x "$TIME" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        say "installing GNU time (/usr/bin/time)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >&2 ||
            die "cannot install the 'time' package"
    else
        die "GNU time (/usr/bin/time) is missing: apt-get install time"
    fi
fi
command -v file >/dev/null || die "file(1) is missing: apt-get install file"

# ------------------------------------------------------------ build --

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    say "configuring $BUILD_DIR (Release)"
    cmake -S "$SRC_DIR" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >&2
fi
# Always let CMake bring scan up to date: timing a stale binary misleads.
cmake --build "$BUILD_DIR" --target scan -j "$(nproc)" >&2 || die "cannot build scan"
[ -x "$SCAN" ] || die "no scan binary at $SCAN"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
sanitize=$(sed -n 's/^SANITIZE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
case "$build_type" in
    Release | RelWithDebInfo | MinSizeRel) ;;
    *) say "warning: $BUILD_DIR is a '${build_type:-unset}' build; figures will be pessimistic" ;;
esac
[ -z "$sanitize" ] || say "warning: $BUILD_DIR is built with sanitizers ($sanitize); figures will be pessimistic"

# ----------------------------------------------------------- corpus --

mkdir -p "$BENCH_DIR"
"$SRC_DIR/bench/mkcorpus.sh" "$CORPUS" "$N"

# ----------------------------------------------------------- broker --

URL=$("$BROKER_SH" start) || die "cannot start the private broker (tests/broker.sh start)"
[ -n "$URL" ] || die "tests/broker.sh start printed no URL"

RUN_ID=$(date +%Y%m%d%H%M%S)-$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scanmove-bench.XXXXXX")
CREATED_QUEUES=()
CREATED_EXCHANGES=()

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
trap 'cleanup; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# Messages in queue $1, or empty if it does not exist.
queue_messages() {
    ctl list_queues -q --no-table-headers name messages 2>/dev/null |
        awk -v q="$1" -F '\t' '$1 == q { print $2 }'
}

# ------------------------------------------------------------ cache --

can_drop=
if [ -w /proc/sys/vm/drop_caches ] && sync && (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
    can_drop=1
fi
drop_caches() { sync && echo 3 >/proc/sys/vm/drop_caches; }

if [ "$CACHE" = cold ]; then
    [ -n "$can_drop" ] || die "BENCH_CACHE=cold needs a writable /proc/sys/vm/drop_caches (root)"
    CACHE_NOTE="cold: page cache dropped before each run"
else
    say "warming the page cache: reading every file of $CORPUS once"
    find "$CORPUS" -type f -print0 | xargs -0 -P "$JOBS" -n 500 cat >/dev/null
    CACHE_NOTE="warm: ${can_drop:+page cache dropped, then }every file read once before the runs"
fi

# ------------------------------------------------------------- runs --

# Results, by run letter.
declare -A R_FILES=() R_PUB=() R_SECS=() R_RATE=() R_RSS=() R_OWN=() R_NOTE=() R_QUEUE=() R_OK=()
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

# keep LETTER SECONDS RSS-KIB FILES PUBLISHED RATE OWN-RATE IN-QUEUE: record a
# trial; the best files/s wins, the peak RSS is the highest of all trials.
keep() {
    local r=$1
    R_TRIALS[$r]+="${R_TRIALS[$r]:+, }$6"
    if [ -z "${R_RATE[$r]:-}" ] || [ "$6" -gt "${R_RATE[$r]}" ]; then
        R_SECS[$r]=$2 R_FILES[$r]=$4 R_PUB[$r]=$5 R_RATE[$r]=$6 R_OWN[$r]=$7 R_QUEUE[$r]=$8
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

# run_scan LETTER TRIAL SCAN-ARGS...
run_scan() {
    local r=$1 t=$2 q x rc secs rss pub failed rejected inq own cpu0 cpu1
    shift 2
    q=scanmove-bench-$RUN_ID-$r$t
    x=scanmove-bench-$RUN_ID-$r$t
    CREATED_QUEUES+=("$q" "$q.dead")
    CREATED_EXCHANGES+=("$x" "$x.dlx")
    [ "$CACHE" = warm ] || drop_caches
    say "run $r (trial $t of $REPEAT): scan${*:+ $*}"
    cpu0=$(broker_cpu)
    set +e
    AMQP_URL=$URL "$TIME" -f '%e %M' -o "$WORK/$r.time" \
        "$SCAN" -q --json -j "$JOBS" --exchange "$x" --queue "$q" --routing-key "$q" \
        --queue-type "$QUEUE_TYPE" "${EXTRA_ARGS[@]}" "$@" "$CORPUS" \
        >"$WORK/$r.json" 2>"$WORK/$r.err"
    rc=$?
    set -e
    cpu1=$(broker_cpu)
    R_BROKER[$r]+="${R_BROKER[$r]:+, }$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }')"
    read -r secs rss < <(tail -n 1 "$WORK/$r.time")
    pub=$(json_num "$WORK/$r.json" published)
    failed=$(json_num "$WORK/$r.json" failed)
    rejected=$(json_num "$WORK/$r.json" rejected)
    own=$(json_num "$WORK/$r.json" files_per_second)
    [ -z "$own" ] || own=$(rate "$own" 1)
    if [ "$rc" -ne 0 ] || [ -z "$pub" ]; then
        fail "$r" "exit $rc: $(grep -v '^Command exited' "$WORK/$r.err" | tail -n 2 | tr '\n' ' ')"
    fi
    if [ "${pub:-0}" -ne "$N" ] || [ "${failed:-0}" -ne 0 ] || [ "${rejected:-0}" -ne 0 ]; then
        fail "$r" "published ${pub:-?}, rejected ${rejected:-?}, failed ${failed:-?} of $N"
    fi
    # Confirmed messages are in the queue; a quorum queue may report its
    # count a moment after the last confirm, so ask a few times.
    inq=
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        inq=$(queue_messages "$q")
        [ "${inq:-x}" != "${pub:-y}" ] || break
        sleep 1
    done
    if [ "${inq:-x}" != "${pub:-y}" ]; then
        fail "$r" "queue holds ${inq:-no queue} messages, scan published ${pub:-?}"
    fi
    keep "$r" "$secs" "$rss" "$(json_num "$WORK/$r.json" files)" "${pub:-0}" \
        "$(rate "${pub:-0}" "$secs")" "${own:--}" "${inq:-none}"
    cleanup
    sleep 2 # let the broker finish deleting before the next run
}

run_baseline() {
    local r=d t=$1 lines secs rss
    [ "$CACHE" = warm ] || drop_caches
    say "run $r (trial $t of $REPEAT): find | xargs -0 -P $JOBS -n 500 file --mime-type"
    # %M of a pipeline is the largest single process of it (a file(1)).
    # shellcheck disable=SC2016 # expanded by the inner sh
    "$TIME" -f '%e %M' -o "$WORK/$r.time" sh -c \
        'find "$1" -type f -print0 | xargs -0 -P "$2" -n 500 file --mime-type | wc -l >"$3"' \
        sh "$CORPUS" "$JOBS" "$WORK/$r.lines"
    read -r secs rss < <(tail -n 1 "$WORK/$r.time")
    lines=$(cat "$WORK/$r.lines")
    [ "$lines" -eq "$N" ] || fail "$r" "file printed $lines lines for $N files"
    keep "$r" "$secs" "$rss" "$lines" - "$(rate "$lines" "$secs")" - -
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for t in $(seq 1 "$REPEAT"); do
    run_scan a "$t" --no-mime
    run_scan b "$t"
    run_scan c "$t" --mime '*/*'
    run_baseline "$t"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ----------------------------------------------------------- report --

ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

base=${R_RATE[d]}
declare -A LABEL=(
    [a]="a) scan --no-mime"
    [b]="b) scan (default: MIME)"
    [c]="c) scan --mime '*/*'"
    [d]="d) file --mime-type (baseline)"
)

report() {
    local r v
    printf 'scan benchmark: %d files in %s\n' "$N" "$CORPUS"
    printf '  machine: %s cores (%s), %s; scan -j %s; %s queues on %s\n' "$(nproc)" \
        "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
        "$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)" \
        "$JOBS" "$QUEUE_TYPE" "$URL"
    printf '  build: %s (%s%s); %s\n' "$SCAN" "${build_type:-?}" \
        "${sanitize:+, sanitizers $sanitize}" "$($SCAN --version 2>/dev/null | head -n 1)"
    printf '  cache: %s\n' "$CACHE_NOTE"
    printf '  load average (1, 5, 15 min) before: %s, after: %s; other processes on the\n' \
        "$LOAD_BEFORE" "$LOAD_AFTER"
    printf '    machine skew the figures (the broker itself shares the cores with scan)\n'
    [ "$REPEAT" -eq 1 ] ||
        printf '  %s trials each: best files/s, highest peak RSS\n' "$REPEAT"
    echo
    printf '%-30s %8s %9s %8s %9s %9s %9s %9s\n' run files published seconds files/s \
        'scan f/s' 'RSS MiB' 'x file'
    for r in a b c d; do
        printf '%-30s %8s %9s %8s %9s %9s %9s %9s\n' "${LABEL[$r]}" "${R_FILES[$r]:-?}" \
            "${R_PUB[$r]}" "${R_SECS[$r]}" "${R_RATE[$r]}" \
            "${R_OWN[$r]}" \
            "$(mib "${R_RSS[$r]}")" \
            "$(ratio "${R_RATE[$r]}" "$base")"
    done
    printf '\n  files/s = published (and confirmed) messages / wall seconds (baseline: files / seconds);\n'
    printf '  "scan f/s" is scan'"'"'s own figure from its --json summary; RSS is the peak of the\n'
    printf '  process (baseline: of its largest single process); "x file" = files/s / baseline.\n'
    for r in a b c; do
        printf '  %s: queue held %s messages after the run; broker CPU during the run: %s s\n' \
            "$r" "${R_QUEUE[$r]}" "${R_BROKER[$r]}"
    done
    if [ "$REPEAT" -gt 1 ]; then
        for r in a b c d; do
            printf '  %s: files/s of each trial: %s\n' "$r" "${R_TRIALS[$r]}"
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
    for r in a b c; do
        check "${R_OK[$r]:-0}" "$r) every file published, confirmed and in the queue, no failures${R_NOTE[$r]:+ --${R_NOTE[$r]}}"
    done
    check "${R_OK[d]:-0}" "d) file printed one line per file${R_NOTE[d]:+ --${R_NOTE[d]}}"
    v=0
    ge "${R_RATE[a]}" "$TARGET_NOMIME_RATE" && v=1
    check "$v" "a) without MIME rules: ${R_RATE[a]} files/s >= $TARGET_NOMIME_RATE"
    v=0
    ge "${R_RATE[c]}" "$(awk -v b="$base" -v t="$TARGET_MIME_RATIO" 'BEGIN { print b * t }')" && v=1
    check "$v" "c) with MIME rules: ${R_RATE[c]} files/s >= $TARGET_MIME_RATIO x baseline $base = $(awk -v b="$base" -v t="$TARGET_MIME_RATIO" 'BEGIN { printf "%.0f", b * t }')"
    for r in a b c; do
        v=0
        lt "$(mib "${R_RSS[$r]}")" "$TARGET_RSS_MIB" && v=1
        check "$v" "$r) peak RSS $(mib "${R_RSS[$r]}") MiB < $TARGET_RSS_MIB MiB$([ "$N" -eq 200000 ] || echo " (the target is for 200,000 files; this run has $N)")"
    done
    echo
    if [ "$missed" -eq 0 ]; then
        echo "All targets met."
    else
        echo "MISSED: $missed target(s) not met (see above)."
    fi
}

OUT=$BENCH_DIR/scan-$N-$RUN_ID.txt
report | tee "$OUT"
say "report saved in $OUT"
say "the broker keeps running; stop it with: ${SCANMOVE_BROKER_DIR:+SCANMOVE_BROKER_DIR=$SCANMOVE_BROKER_DIR }tests/broker.sh stop"
exit 0
