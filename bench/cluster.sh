#!/usr/bin/env bash
# bench/cluster.sh - scan and move files/s on a 3-node RabbitMQ cluster
# against one node started the same way (see bench/README.md, "cluster.sh").
#
# Usage: bench/cluster.sh [N]          (N files, default 20000)
#
# Builds (or reuses) a corpus of N real files with bench/mkcorpus.sh, copies
# it once into a work tree, builds scan and move, and starts two private
# clusters with tests/cluster.sh: three nodes (start 3) and a single node
# (start 1), both up for the whole run. Then, BENCH_REPEAT times (default 3),
# interleaved, on the cluster and on the single node in turn:
#   scan  scan --no-mime --requeue-after 0 of the copy through node 1 into a
#         fresh quorum queue (three members on the cluster, one on the single
#         node); the queue must then hold exactly N messages;
#   move  3 movers, --idle-exit 500ms (taken off the wall time), on nodes 1, 2
#         and 3 of the cluster, or all on the single node, drain that queue:
#         every file moved exactly once, the queue and the dead-letter queue
#         empty, no mark left;
# then the queue is deleted and the files are put back. Prints each run's
# median files/s (min-max), the cluster / single ratio and PASS or FAIL
# against the floor (the cluster at least BENCH_FLOOR, default 0.5, of the
# single node's median), and saves the report as BENCH_DIR/cluster-N-<date>-<pid>.txt.
# Exits 0 even when a row fails (it is a report); non-zero only when it
# cannot run at all. Stops both clusters at the end (BENCH_KEEP=1 keeps them).
#
# Environment:
#   BENCH_DIR            corpus, results and the clusters' state (default
#                        /tmp/scanmove-bench)
#   BENCH_WORK           where the work tree is made (default BENCH_DIR)
#   BUILD_DIR            CMake build directory (default build)
#   BENCH_REPEAT         trials of each run (default 3)
#   BENCH_FLOOR          the floor, a fraction of the single node's files/s (0.5)
#   BENCH_CLUSTER_DIR    state dir of the 3-node cluster (default BENCH_DIR/cluster-3)
#   BENCH_SINGLE_DIR     state dir of the single node (default BENCH_DIR/cluster-1)
#   BENCH_KEEP           1: leave both running at the end
set -eu

PROG=cluster.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BENCH_REPEAT=${BENCH_REPEAT:-3} bench_init "${1:-20000}"
BENCH_WORK=${BENCH_WORK:-$BENCH_DIR}
FLOOR=${BENCH_FLOOR:-0.5}
CLUSTER_SH=$SRC_DIR/tests/cluster.sh
IDLE_MS=500
K=3 # movers
declare -A DIRS=([cluster]=${BENCH_CLUSTER_DIR:-$BENCH_DIR/cluster-3}
    [single]=${BENCH_SINGLE_DIR:-$BENCH_DIR/cluster-1})
declare -A SIZE=([cluster]=3 [single]=1)
[ "$QUEUE_TYPE" = quorum ] || die "the cluster benchmark compares quorum queues only"

need python3 python3
build scan move
mkdir -p "$BENCH_DIR" "$BENCH_WORK"
"$SRC_DIR/bench/mkcorpus.sh" "$CORPUS" "$N"
RUN_ID=$(date +%Y%m%d%H%M%S)-$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scanmove-bench.XXXXXX")
TREE=$(mktemp -d "$BENCH_WORK/scanmove-cluster.XXXXXX")
TREE=$(cd "$TREE" && pwd -P) # scan puts the real path in the messages
FROM=$TREE/src
TO=$TREE/dst
RUNNING=()
CURRENT_Q=
CURRENT_T=

cl() { # cl TARGET ARGS...: tests/cluster.sh on the cluster or the single node
    local t=$1
    shift
    SCANMOVE_CLUSTER_DIR=${DIRS[$t]} "$CLUSTER_SH" "$@"
}

# drop TARGET QUEUE: delete QUEUE, QUEUE.dead and the exchanges of that name
# (best effort: a leftover is harmless).
drop() {
    local q
    for q in "$2" "$2.dead"; do
        cl "$1" ctl 1 delete_queue "$q" >/dev/null 2>&1 || true
    done
    for q in "$2" "$2.dlx"; do
        cl "$1" ctl 1 eval "rabbit_exchange:delete(rabbit_misc:r(<<\"/\">>, exchange, <<\"$q\">>), false, <<\"bench\">>)." \
            >/dev/null 2>&1 || true
    done
}

# shellcheck disable=SC2317 # called from the EXIT trap
on_exit() {
    local p t
    for p in "${RUNNING[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    [ -z "$CURRENT_Q" ] || drop "$CURRENT_T" "$CURRENT_Q"
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        say "both clusters keep running; stop them with: SCANMOVE_CLUSTER_DIR=DIR tests/cluster.sh stop (DIR: ${DIRS[cluster]}, ${DIRS[single]})"
    else
        for t in cluster single; do
            cl "$t" stop || say "could not stop the $t's nodes (${DIRS[$t]})"
        done
    fi
    rm -rf "$WORK" "$TREE"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

copy_corpus
find "$FROM" -type f -print0 | xargs -0 -P "$(nproc)" -n 500 cat >/dev/null

# -------------------------------------------------------- clusters --

declare -A URLS=() START_SECS=()
for t in cluster single; do
    say "starting the $t (${SIZE[$t]} node(s), state in ${DIRS[$t]})"
    t0=$(now)
    URLS[$t]=$(cl "$t" start "${SIZE[$t]}") || die "cannot start the $t (tests/cluster.sh start ${SIZE[$t]})"
    START_SECS[$t]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
done
url_of() { sed -n "${2}p" <<<"${URLS[$1]}"; }
URL="$(url_of cluster 1) (cluster c1) and $(url_of single 1) (single node)"

# counts TARGET QUEUE: "MESSAGES DEAD" from move --check --json through node 1
# (queue.declare-ok: exact, where list_queues lags on quorum queues).
counts() {
    AMQP_URL=$(url_of "$1" 1) "$MOVE" --check --json --queue "$2" --exchange "$2" \
        --routing-key "$2" 2>/dev/null |
        python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["messages"], s["dead_letter_messages"])' \
            2>/dev/null || echo "?"
}

# settled TARGET QUEUE WANT: counts, asked again for up to 10 s until WANT.
settled() {
    local c
    for _ in $(seq 20); do
        c=$(counts "$1" "$2")
        [ "$c" = "$3" ] && break
        sleep 0.5
    done
    echo "$c"
}

# ------------------------------------------------------------ runs --

declare -A TRIALS=() NOTES=() OK=()

# note KEY TEXT: the run KEY (target.what) did not do all its work.
note() {
    OK[$1]=0
    NOTES[$1]+=" $2;"
}

# run TARGET TRIAL: scan into a fresh queue, then K movers drain it.
# mover_failed TARGET TRIAL I RC: note that mover I of a trial exited RC.
# shellcheck disable=SC2317 # called by wait_movers
mover_failed() { note "$1.move" "trial $2: mover $3 exit $4: $(tail -n 1 "$WORK/move.$3.err")"; }

run() {
    local t=$1 i q rc t0 t1 secs pub c m moved=0 dup=0 dead=0 skipped=0
    q=scanmove-bench-$RUN_ID-$t$2
    CURRENT_Q=$q CURRENT_T=$t
    say "$t, trial $2 of $REPEAT: scan --no-mime through node 1, then $K movers"
    t0=$(now)
    set +e
    AMQP_URL=$(url_of "$t" 1) "$SCAN" -q --no-mime --json --requeue-after 0 --exchange "$q" \
        --queue "$q" --routing-key "$q" --queue-type quorum "$FROM" >"$WORK/scan.json" 2>"$WORK/scan.err"
    rc=$?
    set -e
    t1=$(now)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    pub=$(json_num "$WORK/scan.json" published)
    c=$(settled "$t" "$q" "$N 0")
    if [ "$rc" -ne 0 ] || [ "${pub:-0}" -ne "$N" ] || [ "$c" != "$N 0" ]; then
        note "$t.scan" "trial $2: scan exit $rc, published ${pub:-?} of $N, queue and dead-letter queue hold $c: $(tail -n 1 "$WORK/scan.err")"
    else
        TRIALS[$t.scan]+=" $(rate "$N" "$secs")"
        t0=$(now)
        for i in $(seq 1 "$K"); do
            AMQP_URL=$(url_of "$t" "$(((i - 1) % SIZE[$t] + 1))") "$MOVE" -q --json --from "$FROM" \
                --to "$TO" --idle-exit "${IDLE_MS}ms" --exchange "$q" --queue "$q" --routing-key "$q" \
                --queue-type quorum >"$WORK/move.$i.json" 2>"$WORK/move.$i.err" &
            RUNNING+=("$!")
        done
        wait_movers mover_failed "$t" "$2"
        t1=$(now)
        RUNNING=()
        secs=$(awk -v a="$t0" -v b="$t1" -v i="$IDLE_MS" 'BEGIN { printf "%.2f", b - a - i / 1000 }')
        for i in $(seq 1 "$K"); do
            m=$(json_num "$WORK/move.$i.json" moved) && moved=$((moved + ${m:-0}))
            m=$(json_num "$WORK/move.$i.json" duplicates) && dup=$((dup + ${m:-0}))
            m=$(json_num "$WORK/move.$i.json" skipped) && skipped=$((skipped + ${m:-0}))
            m=$(json_num "$WORK/move.$i.json" dead_lettered) && dead=$((dead + ${m:-0}))
        done
        c=$(settled "$t" "$q" "0 0")
        m=$(marks "$TO" count) || m='?'
        if [ "$moved" -ne "$N" ] || [ "$dup$skipped$dead" != 000 ] || [ "$c" != "0 0" ] ||
            [ "$(count_files "$TO")" -ne "$N" ] || [ "$m" != 0 ]; then
            note "$t.move" "trial $2: moved $moved of $N, duplicates $dup, skipped $skipped, dead-lettered $dead, queues hold $c, $m marks left"
        else
            TRIALS[$t.move]+=" $(rate "$N" "$secs")"
        fi
    fi
    drop "$t" "$q"
    CURRENT_Q=
    restore
    sleep 2 # let the nodes settle after the deletion
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for tr in $(seq 1 "$REPEAT"); do
    # Interleaved, and the order swapped from one trial to the next.
    if [ $((tr % 2)) -eq 1 ]; then order="cluster single"; else order="single cluster"; fi
    for t in $order; do
        run "$t" "$tr"
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------- report --

# median RATES...: the median (of an even count, the mean of the two middle ones)
median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2];
        else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
spread() { # spread RATES...: "min-max"
    printf '%s\n' "$@" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) print lo "-" hi }'
}

report() {
    local w t c s r v label
    printf 'cluster benchmark: %d files, a copy of %s\n' "$N" "$CORPUS"
    report_machine "$MOVE"
    printf '  cluster: 3 nodes (tests/cluster.sh start 3) up in %s s; single node (start 1) in %s s\n' \
        "${START_SECS[cluster]}" "${START_SECS[single]}"
    printf '  scan -q --no-mime --requeue-after 0 through node 1 into a fresh quorum queue (3 members\n'
    printf '  on the cluster, 1 on the single node); then %d x move -q --idle-exit %sms, one on each\n' "$K" "$IDLE_MS"
    printf '  node of the cluster or all on the single node; source and destination on one %s\n' "$FS_TYPE"
    printf '  filesystem (every move a rename); files put back between runs\n'
    printf '  load average (1, 5, 15 min) before: %s, after: %s; other processes on the\n' \
        "$LOAD_BEFORE" "$LOAD_AFTER"
    printf '    machine skew the figures (the nodes share the cores with scan and move)\n'
    printf '  %s trials each, interleaved (cluster first in odd trials, the single node in even ones)\n' "$REPEAT"
    echo
    printf '%-22s %24s %24s %7s %6s\n' run 'cluster files/s' 'single node files/s' ratio floor
    for w in scan move; do
        [ "$w" = scan ] && label='scan --no-mime' || label="move, $K movers"
        # shellcheck disable=SC2086 # the trials are words
        c=$(median ${TRIALS[cluster.$w]:-}) s=$(median ${TRIALS[single.$w]:-})
        r=$(ratio "${c:-0}" "${s:-0}" 2)
        v=FAIL
        if [ "${OK[cluster.$w]:-1}${OK[single.$w]:-1}" = 11 ] && [ -n "$c" ] && [ -n "$s" ] &&
            ge "$(ratio "$c" "$s" 4)" "$FLOOR"; then
            v=PASS
        fi
        # shellcheck disable=SC2086
        printf '%-22s %24s %24s %7s %6s\n' "$label" \
            "${c:--} ($(spread ${TRIALS[cluster.$w]:-}))" "${s:--} ($(spread ${TRIALS[single.$w]:-}))" \
            "$r" "$v"
        [ "$v" = PASS ] || MISSED=$((MISSED + 1))
    done
    echo
    printf '  files/s: median (min-max) of the trials; scan: N / wall seconds of the scan process;\n'
    printf '  move: N / (wall seconds from the first mover'"'"'s start to the last exit, less the %s ms\n' "$IDLE_MS"
    printf '  of --idle-exit); ratio = cluster / single node; PASS when it is at least %s and every\n' "$FLOOR"
    printf '  run of both did all its work\n'
    for w in scan move; do
        for t in cluster single; do
            printf '  %s %s, each trial:%s\n' "$t" "$w" "${TRIALS[$t.$w]:- none}"
            [ -z "${NOTES[$t.$w]:-}" ] || printf '    FAILED:%s\n' "${NOTES[$t.$w]}"
        done
    done
    report_end
}

report | tee "$BENCH_DIR/cluster-$N-$RUN_ID.txt"
say "report saved in $BENCH_DIR/cluster-$N-$RUN_ID.txt"
exit 0
