#!/usr/bin/env bash
# Fault scenario "Broker restart mid-scan and mid-move", against the private
# broker (which it restarts, stops and kills, and leaves running):
#  a1. mid-scan, restart: scan publishes 30,000 files (inspecting content
#      with -j 1, so that it runs for some seconds) and the broker is
#      restarted (broker.sh restart) once 2,000 messages are queued. The
#      broker is back well within scan's --reconnect-timeout (120s), so scan
#      must reconnect, publish its unconfirmed messages again and exit 0
#      with every file published (docs/scan.1); the queue then holds every
#      file, at most the republished ones twice.
#  a2. mid-scan, lost for good: the same with --reconnect-timeout 3s and the
#      broker stopped until scan has exited: exit status 69, a last line
#      saying how many messages were not confirmed, each of them a
#      "unconfirmed" line in --rejects; the queue holds at least the
#      confirmed ones.
#      After a1 and a2, scan is run again (it publishes every file still at
#      the source: duplicates), three movers drain the queue: each file is
#      moved once, every other message is a duplicate (moved + duplicates =
#      messages queued), nothing is dead-lettered.
#  b1. mid-move, restart: three movers (--prefetch 8) are moving 20,000
#      files when the broker is restarted; they log the loss, reconnect on
#      their own, finish and exit 0, each file moved once.
#  b2. mid-move, kill: the same with the broker's VM SIGKILLed (broker.sh
#      kill), then started.
# Each part ends with tests/audit.sh (a canary dir beside ROOT as --outside)
# and both queues empty.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/lib.sh"
unset SCANMOVE_JOBS
PY=$TESTS_DIR/move_util.py
AUDIT=$TESTS_DIR/audit.sh
umask 022

jnum() { "$PY3" "$PY" jnum "$1" "$2"; }

# setup NAME N : topology $q/$ex, R=ROOT with N files in many dirs, D=DEST,
# C=a canary dir beside them; snapshots in $WORK/NAME.root, NAME.canary.
setup() {
    q="restart-$tag-$1"
    ex="restart-ex-$tag-$1"
    declared+=("$q")
    R=$WORK/$1/root
    D=$WORK/$1/dest
    C=$WORK/$1/canary
    mkdir -p "$R" "$D" "$C/sub"
    "$PY3" - "$R" "$2" <<'EOF'
import os, sys
top, total = os.fsencode(sys.argv[1]), int(sys.argv[2])
modes = [0o644, 0o600, 0o755, 0o444]
for n in range(total):
    d = os.path.join(top, b"a%02d" % (n // 1000), b"b%d" % (n // 100 % 10))
    if n % 100 == 0:
        os.makedirs(d)
    i = n % 100
    name = {0: b"with space %d.txt" % n, 1: b"-dash %d" % n, 2: b"lat\xe9 %d.bin" % n,
            3: b"L" * 200 + b"%d" % n}.get(i, b"f%03d.dat" % i)
    p = os.path.join(d, name)
    with open(p, "wb") as f:
        f.write((b"%d:" % n) * ((n * 7919) % 800))
    os.chmod(p, modes[n % 4])
    mt = 1600000000123456789 + n * 1000003 if n % 10 else -86400 * 365 * 10 + n
    os.utime(p, ns=(mt, mt))
EOF
    printf 'canary\n' >"$C/c.txt"
    printf 'deeper canary\n' >"$C/sub/d.txt"
    ln -s ../root "$C/to-root"
    "$AUDIT" snapshot "$R" >"$WORK/$1.root"
    "$AUDIT" snapshot "$C" >"$WORK/$1.canary"
    expect_eq "$(grep -ac $'\tfile ' "$WORK/$1.root")" "$2" "$1: $2 files made"
    run declare_topo
    expect_rc 0 "$1: scan declares the topology"
}

# movers NAME ARGS... : start three movers on $q (stdout/stderr in
# $WORK/NAME.I.out/err), pids in $mpids.
movers() {
    local name=$1 i
    shift
    mpids=()
    for i in 1 2 3; do
        env AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" --json \
            "$@" >"$WORK/$name.$i.out" 2>"$WORK/$name.$i.err" &
        mpids+=("$!")
        bg_pids+=("$!")
    done
}

# finish_movers NAME [RECONNECTED] : wait for the three movers (120 s), each
# exits 0 with a clean summary (and logs its reconnection when RECONNECTED
# is given); sums in $moved and $dups.
finish_movers() {
    local name=$1 i f
    moved=0
    dups=0
    for i in 1 2 3; do
        f=$WORK/$name.$i
        wait_pid "${mpids[$((i - 1))]}" 120 "$name: mover $i"
        cp "$f.out" "$WORK/out"
        cp "$f.err" "$WORK/err"
        expect_rc 0 "$name: mover $i"
        pycheck "$name: mover $i --json summary" jcheck "$f.out" skipped=0 dead_lettered=0 requeued=0
        if [ -n "${2:-}" ]; then
            expect_re err 'reconnecting in [0-9]+ s$' "$name: mover $i logs the lost broker"
            expect_re err '^move: warning: reconnected to ' "$name: mover $i logs its reconnection"
        fi
        moved=$((moved + $(jnum "$f.out" moved)))
        dups=$((dups + $(jnum "$f.out" duplicates)))
    done
    bg_pids=()
}

# audit NAME N : the audit passes with every file at DEST; both queues empty.
audit() {
    expect_eq "$(settled "$q" 0)" 0 "$1: the queue is empty"
    expect_eq "$(settled "$q.dead" 0)" 0 "$1: nothing was dead-lettered"
    run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" \
        --manifest "$WORK/$1.root" --outside "$C=$WORK/$1.canary"
    expect_rc 0 "$1: the audit"
    cat "$WORK/out"
    [ "$rc" -eq 0 ] || head -c 3000 "$WORK/err" >&2
    expect_in out "audit: $2 files: $2 at DEST, 0 at the source with a message queued, 0 dead-lettered;" \
        "$1: the audit finds every file at DEST"
}

# queued_at_least N : the queue holds N messages or more (ready).
queued_at_least() { local n; n=$("$PY3" "$AMQP" count "$url" "$q" 2>/dev/null) && [ "${n%% *}" -ge "$1" ]; }
scan_running() { kill -0 "$spid" 2>/dev/null; }

# drain NAME N QUEUED : rerun scan (every file is still at the source; with
# --requeue-after 0 it publishes each again, marks notwithstanding), then
# three movers to completion: N moved, the rest of the messages duplicates.
drain() {
    local name=$1 n=$2 queued=$3 all
    run env AMQP_URL="$url" timeout 300 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q --json \
        --requeue-after 0 "$R"
    expect_rc 0 "$name: the rerun of scan"
    expect_eq "$(jnum "$WORK/out" published)" "$n" "$name: the rerun publishes every file again"
    all=$(settled "$q" $((queued + n)))
    expect_eq "$all" $((queued + n)) "$name: the queue holds the messages of both scans"
    movers "$name" --idle-exit 3s --reconnect-timeout 2m
    finish_movers "$name"
    expect_eq "$moved" "$n" "$name: every file moved once"
    expect_eq "$((moved + dups))" "$all" "$name: every other message handled as a duplicate"
    echo "$name: $all messages for $n files: $moved moved, $dups duplicates"
    audit "$name" "$n"
}

# --- a1. the broker restarts mid-scan ----------------------------------------------------------
N=30000
setup a1 "$N"
env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" -j 1 --confirm-window 256 \
    --reconnect-timeout 120s --json --rejects "$WORK/a1.rej" "$R" >"$WORK/a1.scan.out" \
    2>"$WORK/a1.scan.err" &
spid=$!
bg_pids+=("$spid")
if wait_until 120 "a1: 2000 messages queued" queued_at_least 2000 && scan_running; then
    t_down=$(now_ms)
    "$BROKER_SH" restart >/dev/null || fail "a1: broker.sh restart"
    down_ms=$(($(now_ms) - t_down))
    echo "a1: broker restarted in $down_ms ms while scan was publishing"
else
    fail "a1: scan ended before the broker could be restarted (scenario too fast)"
    down_ms=0
fi
wait_pid "$spid" 240 "a1: scan"
bg_pids=()
cp "$WORK/a1.scan.out" "$WORK/out"
cp "$WORK/a1.scan.err" "$WORK/err"
# The broker was back within --reconnect-timeout: scan must have recovered.
checks=$((checks + 1))
[ "$down_ms" -lt 120000 ] || fail "a1: the restart took $down_ms ms, longer than --reconnect-timeout"
expect_rc 0 "a1: scan through a broker restart (documented: reconnect and publish again)"
expect_re err '; reconnecting$' "a1: scan logs the lost broker"
expect_re err '^scan: warning: reconnected to .*; published [0-9]+ unconfirmed messages again$' \
    "a1: scan logs its reconnection"
checks=$((checks + 1))
"$PY3" -c '
import json, sys
s = json.load(open(sys.argv[1]))
if s.get("published") != int(sys.argv[2]) or s.get("failed") != 0:
    sys.exit("summary: " + json.dumps(s)[:500])' "$WORK/out" "$N" 2>"$WORK/why" ||
    fail "a1: scan's --json summary has not every file published: $(cat "$WORK/why")"
checks=$((checks + 1))
[ ! -s "$WORK/a1.rej" ] || fail "a1: --rejects has lines: $(head -c 400 "$WORK/a1.rej")"
again=$(sed -n 's/.*; published \([0-9]*\) unconfirmed messages again$/\1/p' "$WORK/err" |
    awk '{ s += $1 } END { print s + 0 }')
q1=$(count_retry)
checks=$((checks + 1))
[ -n "$q1" ] && [ "$q1" -ge "$N" ] && [ "$q1" -le $((N + again)) ] ||
    fail "a1: $q1 messages queued for $N files, $again of them published twice: not between $N and $((N + again))"
echo "a1: scan exit 0; $again messages published again after the reconnection; $q1 queued"
drain a1 "$N" "$q1"

# --- a2. the broker stops mid-scan for longer than --reconnect-timeout ---------------------------
N2=10000
setup a2 "$N2"
env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" -j 1 --confirm-window 256 \
    --reconnect-timeout 3s --json --rejects "$WORK/a2.rej" "$R" >"$WORK/a2.scan.out" \
    2>"$WORK/a2.scan.err" &
spid=$!
bg_pids+=("$spid")
if wait_until 120 "a2: 1000 messages queued" queued_at_least 1000 && scan_running; then
    "$BROKER_SH" stop || fail "a2: broker.sh stop"
else
    fail "a2: scan ended before the broker could be stopped (scenario too fast)"
fi
wait_pid "$spid" 120 "a2: scan"
bg_pids=()
"$BROKER_SH" start >/dev/null || fail "a2: broker.sh start"
cp "$WORK/a2.scan.out" "$WORK/out"
cp "$WORK/a2.scan.err" "$WORK/err"
expect_rc 69 "a2: scan whose broker is gone longer than --reconnect-timeout"
expect_re err '^scan: error: lost the broker: .*: [0-9]+ messages? (was|were) not confirmed$' \
    "a2: the last line says how many messages were not confirmed"
checks=$((checks + 1))
tail -n 1 "$WORK/err" | grep -Eq 'not confirmed$' ||
    fail "a2: the last line of stderr is not the count: $(tail -n 2 "$WORK/err")"
unconf=$(tail -n 1 "$WORK/err" | sed -n 's/.*: \([0-9]*\) messages\{0,1\} w[ae][sr]e\{0,1\} not confirmed$/\1/p')
published=$(jnum "$WORK/out" published)
checks=$((checks + 1))
"$PY3" -c '
import json, sys
s = json.load(open(sys.argv[1]))
f = s.get("failed_by_reason", {})
rej = [json.loads(l) for l in open(sys.argv[2], "rb")]
bad = [r for r in rej if r.get("reason") != "unconfirmed" or r.get("outcome") != "failed"]
n = int(sys.argv[3] or -1)
if f.get("unconfirmed") != n or s.get("failed") != n or len(rej) != n or bad:
    sys.exit("summary %s; %d reject lines, %d not unconfirmed (%s)"
             % (json.dumps(s)[:400], len(rej), len(bad), bad[:1]))' \
    "$WORK/out" "$WORK/a2.rej" "$unconf" 2>"$WORK/why" ||
    fail "a2: the unconfirmed files in the summary and --rejects: $(cat "$WORK/why")"
q2=$(count_retry)
checks=$((checks + 1))
[ -n "$q2" ] && [ "$q2" -ge "$published" ] && [ "$q2" -le $((published + unconf)) ] ||
    fail "a2: $q2 messages queued; $published were confirmed and $unconf not: not between"
echo "a2: scan exit 69 with $published confirmed, $unconf unconfirmed; $q2 queued"
drain a2 "$N2" "$q2"

# --- b. the broker restarts (b1) or is killed (b2) mid-move -------------------------------------
# lost_midmove NAME HOW : 20,000 files queued, three movers; once 500 are
# at DEST, HOW takes the broker away and brings it back.
lost_midmove() {
    local name=$1 how=$2 n=20000 at
    setup "$name" "$n"
    run env AMQP_URL="$url" timeout 120 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q "$R"
    expect_rc 0 "$name: scan"
    expect_eq "$(settled "$q" "$n")" "$n" "$name: $n messages queued"
    movers "$name" --prefetch 8 --idle-exit 5s --reconnect-timeout 2m
    # shellcheck disable=SC2016 # expanded by eval
    wait_until 60 "$name: 500 files at DEST" eval '[ "$(nfiles "$D")" -ge 500 ]' || true
    case $how in
        restart)
            "$BROKER_SH" stop || fail "$name: broker.sh stop"
            at=$(nfiles "$D")
            "$BROKER_SH" start >/dev/null || fail "$name: broker.sh start"
            ;;
        kill)
            "$BROKER_SH" kill || fail "$name: broker.sh kill"
            at=$(nfiles "$D")
            checks=$((checks + 1))
            ! "$BROKER_SH" status 2>/dev/null || fail "$name: the broker answers after broker.sh kill"
            "$BROKER_SH" start >/dev/null || fail "$name: broker.sh start"
            ;;
    esac
    checks=$((checks + 1))
    [ "$at" -gt 0 ] && [ "$at" -lt "$n" ] ||
        fail "$name: the broker went away with $at of $n files moved, not mid-move"
    finish_movers "$name" reconnected
    expect_eq "$moved" "$n" "$name: every file moved once"
    echo "$name: broker lost ($how) with $at of $n files moved; $moved moved + $dups duplicates"
    audit "$name" "$n"
}
lost_midmove b1 restart
lost_midmove b2 kill

finish
