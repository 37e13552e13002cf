# tests/cluster/lib.sh - what the cluster scenarios share (sourced, not run;
# it sources ../lib.sh itself): the nodes' URLs, the tree of a scenario, its
# queue declared through a chosen node, three movers over all the nodes, and
# the closing checks and audit. Against the 3-node cluster of
# tests/cluster.sh (ctest's fixture "cluster" starts it).
#
# At exit (also on failure) clean_exit kills the scenario's background
# jobs, starts again any node the scenario killed (so the next one finds
# every node running), deletes the queues it declared, and removes $WORK.
# shellcheck shell=bash
_cluster_dir=${SCANMOVE_CLUSTER_DIR:-}
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# ../lib.sh drops every SCANMOVE_* setting it does not know; this one
# says which cluster to use.
[ -z "$_cluster_dir" ] || export SCANMOVE_CLUSTER_DIR=$_cluster_dir
unset _cluster_dir SCANMOVE_JOBS
CLUSTER_SH=${CLUSTER_SH:-$TESTS_DIR/cluster.sh}
AMQP=$TESTS_DIR/amqp_tool.py
AUDIT=$TESTS_DIR/audit.sh
PY=$TESTS_DIR/move_util.py
umask 022

mapfile -t URLS < <("$CLUSTER_SH" urls)
[ "${#URLS[@]}" -eq 3 ] || {
    echo "FATAL: tests/cluster.sh urls gave ${#URLS[@]} URLs, not 3 (is the cluster started?)" >&2
    exit 1
}
"$CLUSTER_SH" status >"$WORK/status" 2>&1 || {
    echo "FATAL: not every node of the cluster runs:" >&2
    cat "$WORK/status" >&2
    exit 1
}
tag=$$
declared=()
bg_pids=()

clean_exit() {
    set +e
    local p q u queues=()
    for p in "${bg_pids[@]}"; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    "$CLUSTER_SH" status >/dev/null 2>&1 ||
        "$CLUSTER_SH" start 3 >/dev/null ||
        echo "$(basename "$0"): could not start every node of the cluster again" >&2
    for q in "${declared[@]}"; do
        queues+=("$q" "$q.dead")
    done
    u=${URLS[0]}
    [ ${#queues[@]} -eq 0 ] || "$PY3" "$AMQP" delete "$u" "${queues[@]}" >/dev/null 2>&1 ||
        echo "$(basename "$0"): could not delete the queues ${queues[*]}" >&2
    rm -rf "$WORK"
}
trap clean_exit EXIT

cluster() { "$CLUSTER_SH" "$@"; }

# port I : the AMQP port of node I.
port() {
    local u=${URLS[$(($1 - 1))]}
    u=${u##*:}
    echo "${u%%/*}"
}

# urls I... : the URLs of nodes I..., separated by blanks (for AMQP_URL).
urls() {
    local i out=
    for i in "$@"; do
        out="$out${out:+ }${URLS[$((i - 1))]}"
    done
    printf '%s' "$out"
}

# rotation K : the three URLs starting at node K (c1 c2 c3, c2 c3 c1, c3 c1 c2).
rotation() { urls "$1" $(($1 % 3 + 1)) $((($1 + 1) % 3 + 1)); }

jnum() { "$PY3" "$PY" jnum "$1" "$2"; }
nfiles() { find "$1" -type f -printf x | wc -c; }
elapsed_s() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# setup NAME N : $q and $ex of the scenario; R=ROOT with N files (awkward
# names, modes and sizes, tests/move_util.py mktree), D=DEST; the manifest
# in $WORK/NAME.root; the queue declared through node 1, which thus leads it
# (checked, as is its member on every node: RabbitMQ 3.10's default).
setup() {
    q="cluster-$tag-$1"
    ex="cluster-ex-$tag-$1"
    declared+=("$q")
    R=$WORK/$1/root
    D=$WORK/$1/dest
    mkdir -p "$R" "$D"
    "$PY3" "$PY" mktree "$R" "$2" 12
    "$AUDIT" snapshot "$R" >"$WORK/$1.root"
    expect_eq "$(grep -ac $'\tfile ' "$WORK/$1.root")" "$2" "$1: $2 files made"
    mkdir -p "$WORK/empty"
    run env AMQP_URL="$(urls 1)" "$SCAN" -q --queue "$q" --exchange "$ex" "$WORK/empty"
    expect_rc 0 "$1: scan declares the queue through c1"
    expect_eq "$(cluster leader "$q" 2>&1)" 1 "$1: c1 leads the queue declared through it"
    expect_eq "$(members "$q")" "c1@localhost c2@localhost c3@localhost" \
        "$1: the quorum queue has a member on every node"
}

# members QUEUE : the nodes holding a member of quorum queue QUEUE, sorted.
members() {
    cluster ctl 1 list_queues -q --no-table-headers name members 2>/dev/null |
        awk -F '\t' -v q="$1" '$1 == q { print $2 }' | tr -d '[] ' | tr ',' '\n' | sort |
        paste -sd ' '
}

# counts URL : "MESSAGES DEAD" of $q from move --check --json through the
# node of URL (queue.declare-ok: exact, where list_queues lags); the error
# when it fails.
counts() {
    env AMQP_URL="$1" "$MOVE" --check --json --queue "$q" --exchange "$ex" 2>&1 |
        "$PY3" -c '
import json, sys
t = sys.stdin.read()
try:
    s = json.loads(t)
    print(s["messages"], s["dead_letter_messages"])
except (ValueError, KeyError, TypeError):
    print("move --check failed: " + t.strip()[:300])'
}

# settled URL WANT : counts, asked again for up to 20 s until they are WANT.
settled() {
    local c
    for _ in $(seq 40); do
        c=$(counts "$1")
        [ "$c" = "$2" ] && break
        sleep 0.5
    done
    echo "$c"
}

# movers NAME ARGS... : three movers on $q, mover K given all three URLs
# starting at node K, --url-order ordered (so it starts on node K); output
# in $WORK/NAME.K.out/err, pids in $mpids.
movers() {
    local name=$1 k
    shift
    mpids=()
    for k in 1 2 3; do
        env AMQP_URL="$(rotation "$k")" "$MOVE" --url-order ordered --queue "$q" --exchange "$ex" \
            --from "$R" --to "$D" --json "$@" >"$WORK/$name.$k.out" 2>"$WORK/$name.$k.err" &
        mpids+=("$!")
        bg_pids+=("$!")
    done
}

# finish_movers NAME END_MS : wait for the three movers until END_MS (ms
# since the epoch); each exits 0 with a clean summary; the sums in $moved
# and $dups.
finish_movers() {
    local name=$1 k f left
    moved=0
    dups=0
    for k in 1 2 3; do
        f=$WORK/$name.$k
        left=$((($2 - $(now_ms) + 999) / 1000))
        [ "$left" -gt 0 ] || left=1
        wait_pid "${mpids[$((k - 1))]}" "$left" "$name: mover $k"
        cp "$f.out" "$WORK/out"
        cp "$f.err" "$WORK/err"
        expect_rc 0 "$name: mover $k"
        pycheck "$name: mover $k --json summary" jcheck "$f.out" skipped=0 dead_lettered=0
        moved=$((moved + $(jnum "$f.out" moved)))
        dups=$((dups + $(jnum "$f.out" duplicates)))
    done
    bg_pids=()
}

# connected_to FILE I : a line of FILE (a tool's stderr) says it connected
# to node I, or lost its connection to it (given several URLs, the tools log
# each connection, naming the node's URL).
connected_to() {
    grep -E "(connected|connection) to [^ ]*127\.0\.0\.1:$(port "$2")([^0-9]|$)" "$1" >/dev/null
}

# node_down I : node I is not running (cluster.sh status says so).
node_down() { cluster status 2>/dev/null | grep -Eq "^c$1@localhost .* down$"; }

# audit NAME N URL : queue and dead-letter queue empty (move --check through
# the node of URL), and tests/audit.sh finds all N files at DEST, once.
audit() {
    expect_eq "$(settled "$3" "0 0")" "0 0" "$1: queue and dead-letter queue empty (move --check)"
    run "$AUDIT" check --url "$3" --queue "$q" --root "$R" --dest "$D" --manifest "$WORK/$1.root"
    expect_rc 0 "$1: the audit"
    cat "$WORK/out"
    [ "$rc" -eq 0 ] || head -c 3000 "$WORK/err" >&2
    expect_in out "audit: $2 files: $2 at DEST, 0 at the source with a message queued, 0 dead-lettered;" \
        "$1: the audit finds every file at DEST"
}

# kill_mid_move NAME N VICTIM : N files queued through c1 (which leads the
# queue); three movers (see movers); once 300 files are at DEST, node VICTIM
# (an index, or "leader": the node leading the queue then) is killed with
# SIGKILL. Every mover must exit 0 within 60 s of the kill,
# VICTIM still down, every file moved exactly once; the mover that started
# on VICTIM must have gone on through the next node of its list. Then
# VICTIM is started again, and the queues and the audit are checked.
kill_mid_move() {
    local name=$1 n=$2 v=$3 t0 at next
    setup "$name" "$n"
    run env AMQP_URL="$(urls 1)" "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q --json "$R"
    expect_rc 0 "$name: scan through c1"
    expect_eq "$(jnum "$WORK/out" published)" "$n" "$name: scan publishes every file"
    expect_eq "$(settled "$(urls 1)" "$n 0")" "$n 0" "$name: $n messages queued"
    if [ "$v" = leader ]; then
        v=$(cluster leader "$q") || v=1
    else
        checks=$((checks + 1))
        [ "$(cluster leader "$q")" != "$v" ] || fail "$name: c$v, to be killed as a follower, leads the queue"
    fi
    next=$((v % 3 + 1))
    movers "$name" --idle-exit 10s --reconnect-timeout 2m
    # shellcheck disable=SC2016 # expanded by eval
    wait_until 60 "$name: 300 files at DEST" eval '[ "$(nfiles "$D")" -ge 300 ]' || true
    t0=$(now_ms)
    cluster kill "$v" || fail "$name: cluster.sh kill $v"
    at=$(nfiles "$R")
    checks=$((checks + 1))
    [ "$at" -gt 0 ] || fail "$name: c$v was killed after the movers had moved every file, not mid-move"
    echo "$name: c$v killed with $at of $n files still at the source"
    # shellcheck disable=SC2016 # expanded by eval
    wait_until 60 "$name: every file moved after the kill" eval '[ "$(nfiles "$R")" -eq 0 ]' &&
        echo "$name: every file moved $(elapsed_s "$t0") s after the kill"
    finish_movers "$name" $((t0 + 60000))
    echo "$name: the movers exited $(elapsed_s "$t0") s after the kill (--idle-exit 10s)"
    checks=$((checks + 1))
    node_down "$v" || fail "$name: c$v was running again before the movers were done"
    expect_eq "$(nfiles "$R")" 0 "$name: nothing left at the source"
    expect_eq "$moved" "$n" "$name: every file moved once"
    echo "$name: $moved moved, $dups duplicates (deliveries taken back from the lost node, their file already moved)"
    checks=$((checks + 1))
    connected_to "$WORK/$name.$v.err" "$v" && connected_to "$WORK/$name.$v.err" "$next" ||
        fail "$name: mover $v did not connect to c$v, then to c$next: $(head -c 1000 "$WORK/$name.$v.err")"
    t0=$(now_ms)
    cluster restart "$v" 2>/dev/null || fail "$name: cluster.sh restart $v"
    echo "$name: c$v back in the cluster in $(elapsed_s "$t0") s"
    audit "$name" "$n" "$(urls "$next")"
}
