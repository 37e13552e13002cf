#!/usr/bin/env bash
# bench/scan.sh - throughput and memory benchmark of `scan` (see bench/README.md).
#
# Usage: bench/scan.sh [N]          (N files, default 200000)
#
# Builds (or reuses) a corpus of N real files with bench/mkcorpus.sh, starts
# (or reuses) the private broker of tests/broker.sh, builds scan, and times
# these runs over the same files:
#   a)  scan --no-mime            no libmagic at all
#   an) scan --no-mime --no-mark  the same without marks: a / an is what the
#                                 marks cost (a and an alternate in order)
#   b)  scan                      the default: MIME type determined, put in the message
#   br) scan, again               right after b, over the files b marked:
#                                 the rescan, which must publish nothing
#   c)  scan --mime '*/*'         a MIME rule (every file passes it)
#   d)  file --mime-type          libmagic's own tool over the same files with
#                                 xargs -P <cores>: the baseline
# Every scan run but br is a first scan: the marks of the whole corpus
# (scan(1) MARKS) are removed before it, outside the timed part. Each
# publishes into a fresh queue of its own (br into b's, which it must leave
# as it is), checks that the queue holds exactly the published (and
# confirmed) messages, and deletes its queues and exchanges afterwards.
# Just before and after runs a and an of every trial, bench/ceiling.c
# measures the broker's confirmed-publish rate for messages of the same
# size (the ceiling of run a). Prints files/s and peak RSS of each run, the
# ceiling, the cost of the marks, the speed-up of the rescan, and whether
# the targets are met. The marks of the corpus are removed again at the end.
# Exits 0 even when a target is missed (it is a report); non-zero only when
# it cannot run at all.
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
#   BENCH_REPEAT         run the measurements R times, interleaved
#                        (a an b br c d an a b br c d ...), and report the
#                        best files/s and the highest peak RSS of each
#                        (default 1)
#   BENCH_SCAN_ARGS      extra arguments for every scan run (word-split)
set -eu

PROG=scan.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
JOBS=${BENCH_JOBS:-$(nproc)}
CACHE=${BENCH_CACHE:-warm}
read -r -a EXTRA_ARGS <<<"${BENCH_SCAN_ARGS:-}"
case "$CACHE" in warm | cold) ;; *) die "BENCH_CACHE must be warm or cold" ;; esac

# Targets (bench/README.md).
FLOOR_PUBLISH=0.6     # run a: x the broker's confirmed-publish ceiling
TARGET_MIME_RATIO=0.9 # run c: x the baseline's files/s
TARGET_RSS_MIB=64     # every scan run, for 200,000 files
TARGET_MARK_RATIO=0.9 # run a: x run an's files/s (the marks cost under 10 %)
TARGET_RESCAN=10      # run b's seconds / run br's, for 200,000 files

need "$TIME" time
need python3 python3
command -v file >/dev/null || die "file(1) is missing: apt-get install file"
build scan
mkdir -p "$BENCH_DIR"
"$SRC_DIR/bench/mkcorpus.sh" "$CORPUS" "$N"
start_broker
trap 'cleanup; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# The publish ceiling sends messages as large as run a's, with scan's
# confirm window.
WINDOW=$(option_in --confirm-window "$(default_of "$SCAN" --confirm-window)" "${EXTRA_ARGS[@]}")
[ -n "$WINDOW" ] || die "cannot read scan's default --confirm-window from scan --help"
MSG_BYTES=$(message_size "$CORPUS")

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
declare -A R_TRIALS=() R_BROKER=() T_RATE=() T_SECS=()

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

# run_scan LETTER TRIAL SCAN-ARGS...: one scan of the corpus. Every run is a
# first scan (the corpus's marks removed before it), which must publish all
# N files into a queue of its own, except br: the rescan right after b,
# into b's queue, which must publish nothing, find all N files already
# queued, and leave b's N messages as they are. Its files/s are the files
# it looked at per second.
run_scan() {
    local r=$1 t=$2 q x rc secs rss pub failed rejected queued marks_failed own cpu0 cpu1
    local want_pub=$N want_queued=0 count
    shift 2
    if [ "$r" = br ]; then
        want_pub=0 want_queued=$N
        q=scanmove-bench-$RUN_ID-b$t
    else
        q=scanmove-bench-$RUN_ID-$r$t
        CREATED_QUEUES+=("$q" "$q.dead")
        CREATED_EXCHANGES+=("$q" "$q.dlx")
        clear_marks "$CORPUS"
    fi
    x=$q
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
    queued=$(json_num "$WORK/$r.json" already_queued)
    marks_failed=$(json_num "$WORK/$r.json" marks_failed)
    own=$(json_num "$WORK/$r.json" files_per_second)
    [ -z "$own" ] || own=$(rate "$own" 1)
    if [ "$rc" -ne 0 ] || [ -z "$pub" ]; then
        fail "$r" "exit $rc: $(grep -v '^Command exited' "$WORK/$r.err" | tail -n 2 | tr '\n' ' ')"
    fi
    if [ "${pub:-0}" -ne "$want_pub" ] || [ "${queued:-0}" -ne "$want_queued" ] ||
        [ "${failed:-0}" -ne 0 ] || [ "${rejected:-0}" -ne 0 ]; then
        fail "$r" "published ${pub:-?}, already queued ${queued:-?}, rejected ${rejected:-?}, failed ${failed:-?} of $N"
    fi
    # A mark that failed would be published again by the rescan, and would
    # make the marks look cheaper than they are.
    [ "${marks_failed:-0}" -eq 0 ] ||
        fail "$r" "$marks_failed marks could not be written: $(grep -v '^Command exited' "$WORK/$r.err" | tail -n 1)"
    # Confirmed messages are in the queue (for br: b's, and no more).
    wait_queue "$q" "$N" ||
        fail "$r" "queue holds ${INQ:-no queue} messages, not $N"
    count=${pub:-0}
    [ "$r" != br ] || count=${queued:-0}
    T_RATE[$r$t]=$(rate "$count" "$secs")
    T_SECS[$r$t]=$secs
    keep "$r" "$secs" "$rss" "$(json_num "$WORK/$r.json" files)" "${pub:-0}" \
        "${T_RATE[$r$t]}" "${own:--}" "${INQ:-none}"
    # b's queue is the one br scans into.
    [ "$r" = b ] || {
        cleanup
        sleep 2 # let the broker finish deleting before the next run
    }
}

# run_ceiling_publish NAME: the broker's confirmed-publish rate, N
# messages of run a's size with scan's confirm window.
run_ceiling_publish() {
    ceiling_publish "scanmove-bench-$RUN_ID-$1" "$N" "$MSG_BYTES" "$WINDOW" || true
    cleanup
    sleep 2
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
    # Just before and just after runs a and an: a short disturbance lowers
    # at most one of the two, and the best is kept. a and an swap places
    # from one trial to the next, so that neither always runs first.
    run_ceiling_publish "P$t"
    if [ $((t % 2)) -eq 1 ]; then
        run_scan a "$t" --no-mime
        run_scan an "$t" --no-mime --no-mark
    else
        run_scan an "$t" --no-mime --no-mark
        run_scan a "$t" --no-mime
    fi
    run_ceiling_publish "Q$t"
    run_scan b "$t"
    run_scan br "$t"
    run_scan c "$t" --mime '*/*'
    run_baseline "$t"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
# Leave the corpus as mkcorpus.sh made it, for move.sh's copy and others.
clear_marks "$CORPUS"

# ----------------------------------------------------------- report --

base=${R_RATE[d]:-}
# The baseline and run an, as "ceilings" for check_ratio.
[ -z "$base" ] || C_RATE[file]=$base
[ -z "${R_RATE[an]:-}" ] || C_RATE[nomark]=${R_RATE[an]}
RUNS=(a an b br c d)
SCANS=(a an b br c)
declare -A LABEL=(
    [a]="a) scan --no-mime"
    [an]="an) scan --no-mime --no-mark"
    [b]="b) scan (default: MIME)"
    [br]="br) scan, again (rescan of b)"
    [c]="c) scan --mime '*/*'"
    [d]="d) file --mime-type (baseline)"
)
SMALL=
[ "$N" -eq 200000 ] || SMALL=" (the target is for 200,000 files; this run has $N)"

# What the marks cost, in % of the files/s of run an (1 - a / an).
mark_cost() {
    awk -v a="${R_RATE[a]:-0}" -v n="${R_RATE[an]:-0}" \
        'BEGIN { if (n > 0) printf "%.1f", 100 * (1 - a / n); else print "?" }'
}

# b's seconds / br's: how much faster the rescan is than the first scan.
speedup() { ratio "${T_SECS[b$1]:-${R_SECS[b]:-0}}" "${T_SECS[br$1]:-${R_SECS[br]:-0}}" 1; }

report() {
    local r t
    printf 'scan benchmark: %d files in %s\n' "$N" "$CORPUS"
    report_machine "$SCAN"
    printf '  scan -q --json -j %s%s\n' "$JOBS" "${EXTRA_ARGS[*]:+ ${EXTRA_ARGS[*]}}"
    printf '  cache: %s\n' "$CACHE_NOTE"
    printf '  marks: removed from the corpus before every run but br (not timed): %s marks in all,\n' \
        "$CLEARED_ALL"
    printf '    %s s for each removal over the %s files\n' "${CLEAR_TIMES:--}" "$N"
    report_load scan
    echo
    printf '%-32s %8s %9s %8s %9s %9s %9s %9s %9s\n' run files published seconds files/s \
        'scan f/s' 'RSS MiB' 'x file' 'x ceiling'
    for r in "${RUNS[@]}"; do
        printf '%-32s %8s %9s %8s %9s %9s %9s %9s %9s\n' "${LABEL[$r]}" "${R_FILES[$r]:-?}" \
            "${R_PUB[$r]:--}" "${R_SECS[$r]:--}" "${R_RATE[$r]:--}" "${R_OWN[$r]:--}" \
            "$([ -z "${R_RSS[$r]:-}" ] || mib "${R_RSS[$r]}")" \
            "$(if [ "$r" = br ]; then echo -; else ratio "${R_RATE[$r]:-0}" "${base:-0}" 2; fi)" \
            "$(case $r in d | br) echo - ;; *) ratio "${R_RATE[$r]:-0}" "${C_RATE[publish]:-0}" 2 ;; esac)"
    done
    echo
    report_ceilings publish "this broker: $N persistent messages of $MSG_BYTES bytes (the mean of run a's), confirm window $WINDOW; best of the measures before and after runs a and an"
    printf '\n  files/s = published (and confirmed) messages / wall seconds (baseline: files / seconds;\n'
    printf '  br: files found already queued / seconds); "scan f/s" is scan'"'"'s own figure (files\n'
    printf '  it saw / its seconds) from its --json summary; RSS is the peak of the process\n'
    printf '  (baseline: of its largest single process); "x file" = files/s / baseline;\n'
    printf '  "x ceiling" = files/s / the publish ceiling, measured by bench/ceiling.c on the same\n'
    printf '  broker just before and just after runs a and an of each trial.\n'
    printf '  marks: a) / an) = %s: the marks cost %s %% of the files/s of scan --no-mime\n' \
        "$(ratio "${R_RATE[a]:-0}" "${R_RATE[an]:-0}" 3)" "$(mark_cost)"
    ! lt "$(mark_cost)" 0 || printf '    (below 0: run a was the faster, within the noise)\n'
    printf '  rescan: br) %s s after b) %s s, %s x faster\n' "${R_SECS[br]:--}" "${R_SECS[b]:--}" \
        "$(speedup 0)"
    for r in "${SCANS[@]}"; do
        printf '  %s: queue held %s messages after the run; broker CPU during the run: %s s\n' \
            "$r" "${R_QUEUE[$r]:-?}" "${R_BROKER[$r]:-?}"
    done
    if [ "$REPEAT" -gt 1 ]; then
        for r in "${RUNS[@]}"; do
            printf '  %s: files/s of each trial: %s\n' "$r" "${R_TRIALS[$r]:--}"
        done
        for t in $(seq 1 "$REPEAT"); do
            printf '  trial %s: a) / an) = %s; b) %s s / br) %s s = %s x\n' "$t" \
                "$(ratio "${T_RATE[a$t]:-0}" "${T_RATE[an$t]:-0}" 3)" "${T_SECS[b$t]:--}" \
                "${T_SECS[br$t]:--}" "$(speedup "$t")"
        done
    fi
    echo
    echo "Targets:"
    for r in a an b c; do
        check "${R_OK[$r]:-0}" "$r) every file published, confirmed and in the queue, no failures${R_NOTE[$r]:+ --${R_NOTE[$r]}}"
    done
    check "${R_OK[br]:-0}" "br) nothing published, all $N files already queued, b's queue unchanged${R_NOTE[br]:+ --${R_NOTE[br]}}"
    check "${R_OK[d]:-0}" "d) file printed one line per file${R_NOTE[d]:+ --${R_NOTE[d]}}"
    check_ratio "a) without MIME rules" "${R_RATE[a]:-}" publish "the broker's confirmed-publish ceiling" "$FLOOR_PUBLISH"
    check_ratio "a) with marks (the marks cost under 10 %)" "${R_RATE[a]:-}" nomark "an) without marks" "$TARGET_MARK_RATIO"
    local v=0
    if [ "${R_OK[br]:-0}" = 1 ] && [ "${R_OK[b]:-0}" = 1 ] && [ "$(speedup 0)" != - ] &&
        ge "$(speedup 0)" "$TARGET_RESCAN"; then
        v=1
    fi
    check "$v" "br) rescan of $N already-queued files: ${R_SECS[br]:-?} s, b) first scan ${R_SECS[b]:-?} s: $(speedup 0) x faster >= $TARGET_RESCAN x$SMALL"
    check_ratio "c) with MIME rules" "${R_RATE[c]:-}" file "the baseline file --mime-type" "$TARGET_MIME_RATIO"
    for r in a an b br c; do
        check_rss "$r)" "${R_RSS[$r]:-}" "$TARGET_RSS_MIB" "$SMALL"
    done
    report_end
}

save_report "$BENCH_DIR/scan-$N-$RUN_ID.txt"
exit 0
