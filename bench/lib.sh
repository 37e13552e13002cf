# bench/lib.sh - what scan.sh, move.sh and cluster.sh share: settings, build, broker, the copy, ceilings, report.
#
# Sourced by the two scripts (bash), never run: they set PROG and call
# bench_init "$@" first. See bench/README.md for the variables and for how
# the ceilings are measured.
# shellcheck shell=bash disable=SC2034 # the settings are read by the callers

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    say "$*"
    exit 1
}

# bench_init [N]: the settings both benchmarks read, checked.
bench_init() {
    SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    N=${1:-200000}
    BENCH_DIR=${BENCH_DIR:-/tmp/scanmove-bench}
    BUILD_DIR=${BUILD_DIR:-build}
    case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$SRC_DIR/$BUILD_DIR ;; esac
    QUEUE_TYPE=${BENCH_QUEUE_TYPE:-quorum}
    REPEAT=${BENCH_REPEAT:-1}
    BROKER_SH=$SRC_DIR/tests/broker.sh
    SCAN=$BUILD_DIR/scanner/scan
    MOVE=$BUILD_DIR/mover/move
    CEILING=$BUILD_DIR/bench-ceiling
    CORPUS=$BENCH_DIR/corpus-$N
    TIME=/usr/bin/time
    case "$N" in '' | *[!0-9]* | 0) die "usage: $PROG [N]  (N a positive number of files)" ;; esac
    case "$QUEUE_TYPE" in quorum | classic) ;; *) die "BENCH_QUEUE_TYPE must be quorum or classic" ;; esac
    case "$REPEAT" in '' | *[!0-9]* | 0) die "BENCH_REPEAT must be a positive number" ;; esac
    # Broker settings of the caller must not redirect the benchmark.
    unset AMQP_URL SCANMOVE_EXCHANGE SCANMOVE_QUEUE SCANMOVE_ROUTING_KEY SCANMOVE_QUEUE_TYPE \
        SCANMOVE_DELIVERY_LIMIT SCANMOVE_HEARTBEAT SCANMOVE_CACERT SCANMOVE_CONNECT_TIMEOUT \
        SCANMOVE_JOBS
}

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

# ------------------------------------------------------------ build --

# build TARGET...: configure BUILD_DIR if needed, bring the targets up to
# date (timing a stale binary misleads), and build the ceiling tool.
build() {
    local t
    if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
        say "configuring $BUILD_DIR (Release)"
        cmake -S "$SRC_DIR" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >&2
    fi
    cmake --build "$BUILD_DIR" --target "$@" -j "$(nproc)" >&2 || die "cannot build $*"
    for t in "$@"; do
        case "$t" in
            scan) [ -x "$SCAN" ] || die "no scan binary at $SCAN" ;;
            move) [ -x "$MOVE" ] || die "no move binary at $MOVE" ;;
        esac
    done
    build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
    sanitize=$(sed -n 's/^SANITIZE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
    case "$build_type" in
        Release | RelWithDebInfo | MinSizeRel) ;;
        *) say "warning: $BUILD_DIR is a '${build_type:-unset}' build; figures will be pessimistic" ;;
    esac
    [ -z "$sanitize" ] || say "warning: $BUILD_DIR is built with sanitizers ($sanitize); figures will be pessimistic"
    # The ceiling tool is not part of scanmove's build: plain cc, always
    # optimised, whatever the build type of BUILD_DIR.
    if [ ! -x "$CEILING" ] || [ "$SRC_DIR/bench/ceiling.c" -nt "$CEILING" ]; then
        say "building $CEILING"
        "${CC:-cc}" -std=c11 -O2 -Wall -Wextra -o "$CEILING" "$SRC_DIR/bench/ceiling.c" \
            -lrabbitmq -lpthread >&2 || die "cannot build bench/ceiling.c (librabbitmq-dev installed?)"
    fi
}

# default_of PROGRAM OPTION: the default a tool's --help gives for OPTION
# ("--prefetch N ... (default 256)"), so that a ceiling uses the same.
default_of() {
    "$1" --help | sed -n "s/^ *$2 [A-Z]* .*(default \([0-9]*\)).*/\1/p" | head -n 1
}

# option_in OPTION DEFAULT ARGS...: the value of OPTION among ARGS
# (--opt N or --opt=N), or DEFAULT.
option_in() {
    local opt=$1 v=$2
    shift 2
    while [ "$#" -gt 0 ]; do
        case "$1" in
            "$opt") [ "$#" -lt 2 ] || v=$2 ;;
            "$opt="*) v=${1#*=} ;;
        esac
        shift
    done
    printf '%s\n' "$v"
}

# ------------------------------------------------------------ marks --

# marks DIR clear|count: remove scan's mark (user.scanmove.queued, scan(1)
# MARKS) from every file under DIR, or count the files that carry one;
# prints the number of marks. A file system without user xattrs has none.
marks() {
    python3 - "$1" "$2" <<'EOF'
import errno, os, sys

NAME = "user.scanmove.queued"
NONE = (errno.ENODATA, errno.ENOTSUP)
top, clear = sys.argv[1], sys.argv[2] == "clear"
found = 0
dirs = [top]
while dirs:
    with os.scandir(dirs.pop()) as entries:
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                dirs.append(e.path)
                continue
            try:
                if clear:
                    os.removexattr(e.path, NAME, follow_symlinks=False)
                else:
                    os.getxattr(e.path, NAME, follow_symlinks=False)
                found += 1
            except OSError as x:
                if x.errno not in NONE:
                    raise
print(found)
EOF
}

# clear_marks DIR: remove the marks of every file under DIR, so that the
# next scan of DIR is a first scan again: without this, a scan skips every
# file an earlier run marked, as already-queued. Sets CLEARED to the marks
# removed and CLEAR_SECS to the seconds it took, and adds them to
# CLEARED_ALL and CLEAR_TIMES. Not timed as part of any run.
CLEARED_ALL=0
CLEAR_TIMES=
clear_marks() {
    local t0
    t0=$(now)
    CLEARED=$(marks "$1" clear) || die "cannot remove the marks of the files under $1"
    CLEAR_SECS=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
    CLEARED_ALL=$((CLEARED_ALL + CLEARED))
    CLEAR_TIMES+="${CLEAR_TIMES:+, }$CLEAR_SECS"
}

# --------------------------------------------------------- the copy --

# count_files DIR: the regular files under DIR.
count_files() { find "$1" -type f | wc -l; }

# copy_corpus: copy $CORPUS to $FROM and make the destination $TO; both
# must be on one filesystem, so that every move is a rename, as in
# production on one volume. FS_TYPE: the filesystem type of $TREE.
copy_corpus() {
    say "copying $CORPUS to $FROM"
    cp -a "$CORPUS" "$FROM"
    mkdir "$TO"
    [ "$(stat -c %d "$FROM")" = "$(stat -c %d "$TO")" ] ||
        die "$FROM and $TO are on different filesystems"
    FS_TYPE=$(stat -f -c %T "$TREE")
    [ "$(count_files "$FROM")" -eq "$N" ] || die "the copy $FROM does not hold $N files"
}

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

# wait_movers CMD...: wait for every pid of RUNNING (the movers, in order);
# for mover I (from 1) that exited RC non-zero, run CMD... I RC.
wait_movers() {
    local i rc
    for i in "${!RUNNING[@]}"; do
        rc=0
        wait "${RUNNING[$i]}" || rc=$?
        [ "$rc" -eq 0 ] || "$@" "$((i + 1))" "$rc"
    done
}

# ----------------------------------------------------------- broker --

# start_broker: start (or reuse) the private broker; sets URL, RUN_ID and
# WORK, a scratch directory removed on exit (by the caller's trap).
start_broker() {
    URL=$("$BROKER_SH" start) || die "cannot start the private broker (tests/broker.sh start)"
    [ -n "$URL" ] || die "tests/broker.sh start printed no URL"
    RUN_ID=$(date +%Y%m%d%H%M%S)-$$
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/scanmove-bench.XXXXXX")
    CREATED_QUEUES=()
    CREATED_EXCHANGES=()
}

ctl() { "$BROKER_SH" ctl "$@"; }

delete_exchange() {
    # rabbitmqctl has no delete_exchange; this is the internal call it
    # would make. Best effort: a leftover exchange is harmless.
    ctl eval "rabbit_exchange:delete(rabbit_misc:r(<<\"/\">>, exchange, <<\"$1\">>), false, <<\"bench\">>)." \
        >/dev/null 2>&1 || true
}

# cleanup: delete the queues and exchanges the current run made.
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

# CPU seconds the broker's VM has used so far (utime + stime).
broker_cpu() {
    local pid
    pid=$(cat "${SCANMOVE_BROKER_DIR:-/tmp/scanmove-broker-$(id -u)}/broker.pid" 2>/dev/null) &&
        awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$pid/stat" 2>/dev/null ||
        echo 0
}

# ----------------------------------------------------------- figures --

# fail LETTER TEXT: the run did not do all its work.
fail() {
    R_OK[$1]=0
    R_NOTE[$1]+=" $2;"
}

# json_num FILE KEY: the number of a top-level "KEY": in the --json summary.
json_num() {
    grep -o "\"$2\":[-0-9.eE+]*" "$1" | head -n 1 | cut -d: -f2
}

# rate COUNT SECONDS -> files/s (integer)
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
now() { date +%s.%N; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
# ratio A B [DIGITS] -> A / B, or "-" if B is not positive
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-1}" 'BEGIN { if (b > 0) printf "%.*f", d, a / b; else print "-" }'; }

# ---------------------------------------------------------- ceilings --
#
# Each ceiling is measured by bench/ceiling.c between the runs of every
# trial, on the same broker and filesystem, and the best of the trials is
# kept, as for the runs. C_RATE[name] is the best rate, C_TRIALS[name] the
# rate of every measure, C_NOTE[name] what went wrong.
declare -A C_RATE=() C_TRIALS=() C_NOTE=()

# keep_ceiling NAME RATE
keep_ceiling() {
    C_TRIALS[$1]+="${C_TRIALS[$1]:+, }$2"
    if [ -z "${C_RATE[$1]:-}" ] || [ "$2" -gt "${C_RATE[$1]}" ]; then
        C_RATE[$1]=$2
    fi
}

# message_size DIR: the mean size in bytes of the bodies scan --no-mime
# publishes for the files under DIR (from --dry-run: no broker; --no-mark,
# or the files an earlier run marked as queued would be left out).
message_size() {
    "$SCAN" --dry-run --no-mime --no-mark -q "$1" |
        LC_ALL=C awk '{ n++; b += length($0) } END { if (n) printf "%.0f", b / n; else print 0 }'
}

# declare_queue QUEUE: make QUEUE, an exchange of the same name and their
# dead-letter companions exactly as scan and move do (by scanning an empty
# directory: scan --check creates nothing).
declare_queue() {
    CREATED_QUEUES+=("$1" "$1.dead")
    CREATED_EXCHANGES+=("$1" "$1.dlx")
    mkdir -p "$WORK/declare-empty"
    AMQP_URL=$URL "$SCAN" -q --exchange "$1" --queue "$1" --routing-key "$1" \
        --queue-type "$QUEUE_TYPE" "$WORK/declare-empty" >/dev/null 2>"$WORK/declare.err" ||
        die "cannot declare the queue $1: $(tail -n 1 "$WORK/declare.err")"
}

# run_ceiling NAME LOG ARGS...: run the ceiling tool; keep its rate under
# NAME, or note the failure.
run_ceiling() {
    local name=$1 log=$2 r
    shift 2
    if "$CEILING" "$@" >"$log" 2>"$log.err" && read -r _ _ r <"$log"; then
        keep_ceiling "$name" "$r"
        [ ! -s "$log.err" ] || C_NOTE[$name]+=" $(tr '\n' ' ' <"$log.err");"
        return 0
    fi
    C_NOTE[$name]+=" failed: $(tail -n 2 "$log.err" | tr '\n' ' ');"
    return 1
}

# ceiling_publish QUEUE COUNT SIZE WINDOW: the broker's confirmed-publish
# rate (name "publish") into a fresh QUEUE declared as scan declares it,
# which is left holding COUNT messages.
ceiling_publish() {
    declare_queue "$1"
    say "ceiling: confirmed publishing of $2 messages of $3 bytes, window $4"
    run_ceiling publish "$WORK/ceiling.publish" publish "$URL" "$1" "$1" "$2" "$3" "$4" || return 1
    wait_queue "$1" "$2" || {
        C_NOTE[publish]+=" the queue holds ${INQ:-no queue} messages after publishing, not $2;"
        return 1
    }
}

# ceiling_consume QUEUE COUNT PREFETCH CONSUMERS: the broker's consume and
# acknowledge rate (name "consume") over the COUNT messages of QUEUE.
ceiling_consume() {
    say "ceiling: $4 consumers acknowledging $2 messages, prefetch $3"
    run_ceiling consume "$WORK/ceiling.consume" consume "$URL" "$1" "$2" "$3" "$4"
}

# ceiling_mover QUEUE COUNT PREFETCH CONSUMERS FROM TO: the same with one
# rename of a file of FROM into TO per message (name "move"): the least a
# mover does, on this broker and this filesystem together.
ceiling_mover() {
    say "ceiling: $4 consumers renaming a file per message and acknowledging $2 messages, prefetch $3"
    (cd "$5" && find . -type f -printf '%P\0') >"$WORK/ceiling.paths"
    run_ceiling move "$WORK/ceiling.move" consume "$URL" "$1" "$2" "$3" "$4" "$5" "$6" \
        <"$WORK/ceiling.paths"
}

# ceiling_rename FROM TO THREADS: the filesystem's rename rate (name
# "rename"), moving every file under FROM to the same path under TO.
ceiling_rename() {
    say "ceiling: $3 threads renaming the files of $1 to $2"
    (cd "$1" && find . -type f -printf '%P\0') >"$WORK/ceiling.paths"
    run_ceiling rename "$WORK/ceiling.rename" rename "$1" "$2" "$3" <"$WORK/ceiling.paths"
}

# ------------------------------------------------------------ report --

# report_machine WHAT: the lines of the report's head that both share.
report_machine() {
    printf '  machine: %s cores (%s), %s; %s queues on %s\n' "$(nproc)" \
        "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
        "$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)" \
        "$QUEUE_TYPE" "$URL"
    printf '  build: %s (%s%s); %s\n' "$1" "${build_type:-?}" \
        "${sanitize:+, sanitizers $sanitize}" "$("$1" --version 2>/dev/null | head -n 1)"
}

report_load() {
    printf '  load average (1, 5, 15 min) before: %s, after: %s; other processes on the\n' \
        "$LOAD_BEFORE" "$LOAD_AFTER"
    printf '    machine skew the figures (the broker itself shares the cores with %s)\n' "$1"
    [ "$REPEAT" -eq 1 ] ||
        printf '  %s trials each: best files/s (and best ceiling), highest peak RSS\n' "$REPEAT"
}

# check OK TEXT: one target line; counts the missed ones in MISSED.
MISSED=0
check() {
    if [ "$1" = 1 ]; then
        printf '  PASS    %s\n' "$2"
    else
        printf '  MISSED  %s\n' "$2"
        MISSED=$((MISSED + 1))
    fi
}

# check_ratio LABEL RATE CEILING-NAME CEILING-TEXT FLOOR: the target that a
# run's files/s is at least FLOOR x the ceiling measured in the same run.
check_ratio() {
    local v=0 c=${C_RATE[$3]:-}
    if [ -n "$c" ] && [ -n "$2" ] && ge "$(ratio "$2" "$c" 4)" "$5"; then
        v=1
    fi
    check "$v" "$1: $2 files/s = $(ratio "${2:-0}" "${c:-0}" 2) x $4 ${c:-?}/s >= $5 x"
}

# check_rss LABEL KIB LIMIT-MIB [NOTE]
check_rss() {
    local v=0 m='?'
    if [ -n "$2" ]; then
        m=$(mib "$2")
        lt "$m" "$3" && v=1
    fi
    check "$v" "$1 peak RSS $m MiB < $3 MiB${4:-}"
}

# report_ceilings NAME TEXT...: the best of each ceiling, and every measure.
report_ceilings() {
    local name text
    while [ "$#" -ge 2 ]; do
        name=$1 text=$2
        shift 2
        printf '  ceiling %-8s %8s/s  %s%s\n' "$name" "${C_RATE[$name]:--}" "$text" \
            "${C_NOTE[$name]:+ --${C_NOTE[$name]}}"
        printf '  %-17s measures: %s\n' '' "${C_TRIALS[$name]:--}"
    done
}

report_end() {
    echo
    if [ "$MISSED" -eq 0 ]; then
        echo "All targets met."
    else
        echo "MISSED: $MISSED target(s) not met (see above)."
    fi
}

# save_report FILE: print the report (the caller's function report) and
# keep a copy in FILE.
save_report() {
    report | tee "$1"
    say "report saved in $1"
    say "the broker keeps running; stop it with: ${SCANMOVE_BROKER_DIR:+SCANMOVE_BROKER_DIR=$SCANMOVE_BROKER_DIR }tests/broker.sh stop"
}
