# tests/broker/lib.sh - what the tests against the private broker share
# (sourced after ../lib.sh, not run): its URL, clean-up at exit, the
# topology of a part of a test, and counting.
#
# At exit the broker must be running, with what the test made gone, for the
# tests after it: broker_cleanup (the EXIT trap set here) kills the pids in
# $bg_pids, starts the broker again if it is down, evaluates each command of
# $on_exit (for the helpers built on this file) and then $extra_cleanup (a
# command the test may set), deletes each queue of $declared and its .dead
# queue, and removes $WORK.
AMQP=$TESTS_DIR/amqp_tool.py
url=$("$BROKER_SH" url)
tag=$$
declared=()
bg_pids=()
on_exit=()
extra_cleanup=

broker_cleanup() {
    set +e
    local p q c queues=()
    for p in "${bg_pids[@]}"; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if ! "$BROKER_SH" status >/dev/null 2>&1; then
        "$BROKER_SH" start >/dev/null || echo "$(basename "$0"): could not start the broker again" >&2
    fi
    for c in "${on_exit[@]}" "$extra_cleanup"; do
        [ -z "$c" ] || eval "$c"
    done
    for q in "${declared[@]}"; do
        case $q in *.dead) ;; *) queues+=("$q" "$q.dead") ;; esac
    done
    [ ${#queues[@]} -eq 0 ] || "$PY3" "$AMQP" delete "$url" "${queues[@]}" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap broker_cleanup EXIT

ctl() { "$BROKER_SH" ctl "$@"; }

# topo_names NAME : $q and $ex of their own for part NAME of a test, named
# after $prefix (which the test sets), remembered for clean-up.
topo_names() {
    q="$prefix-$tag-$1"
    ex="$prefix-ex-$tag-$1"
    declared+=("$q")
}

# declare_topo [OPTIONS] : declare the topology of $q and $ex (with scan's
# OPTIONS, e.g. --queue-type classic) as scan does when it starts, by
# scanning an empty directory: scan --check creates nothing.
declare_topo() {
    mkdir -p "$WORK/declare-topo-empty"
    env AMQP_URL="$url" "$SCAN" -q --queue "$q" --exchange "$ex" "$@" "$WORK/declare-topo-empty"
}

# topo NAME : topo_names NAME, declared by declare_topo.
topo() {
    topo_names "$1"
    declare_topo >/dev/null || fail "$1: scan could not declare the topology"
}

# count [QUEUE] : ready messages in QUEUE (default $q); the error when it
# cannot be counted.
count() { "$PY3" "$AMQP" count "$url" "${1:-$q}" 2>&1 | cut -d' ' -f1; }

# qcount QUEUE : ready messages in QUEUE; empty when it cannot be counted.
qcount() { "$PY3" "$AMQP" count "$url" "$1" 2>/dev/null | cut -d' ' -f1; }

# consumers [QUEUE] : consumers of QUEUE (default $q).
consumers() { "$PY3" "$AMQP" count "$url" "${1:-$q}" 2>&1 | cut -d' ' -f2; }

# count_retry [QUEUE] : count, retried for up to 20 s while the broker (or a
# quorum queue, after a restart) does not answer; the error if it never does.
count_retry() {
    local out
    for _ in $(seq 100); do
        out=$("$PY3" "$AMQP" count "$url" "${1:-$q}" 2>&1) && break
        sleep 0.2
    done
    printf '%s\n' "$out" | cut -d' ' -f1
}

# settled QUEUE N : the ready count of QUEUE once it is N, or after 20 s.
settled() {
    local n
    for _ in $(seq 100); do
        n=$(count_retry "$1")
        [ "$n" = "$2" ] && break
        sleep 0.2
    done
    echo "$n"
}

# nfiles DIR : regular files below DIR (names may hold anything).
nfiles() { find "$1" -type f -printf x | wc -c; }

# publish FILE... : publish crafted bodies to $ex with the routing key $q
# (the default: the queue's name).
publish() { "$PY3" "$AMQP" publish "$url" "$ex" "$q" "$@" || fail "publish $*"; }

# dead OUT : take every message off $q.dead into OUT; prints how many.
dead() { "$PY3" "$AMQP" get "$url" "$q.dead" 100000 "$1"; }
