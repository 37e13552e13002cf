#!/usr/bin/env bash
# Fault scenario "Mover killed" with moved events (move --publish-moved):
# three movers work on 5,000 files in 50 directories while, every 300-700
# ms, one of them (at random) gets SIGKILL and is started again with the
# same arguments; at least 15 kills. Kills land between a file's move, its
# event's publish, the event's confirm and the message's acknowledgement.
# As in tests/faults/test_kills.sh, a round is scan ROOT (while the movers
# run), every file moved, then -- the queue empty -- the files renamed back
# from DEST to ROOT for the next round, until 15 kills.
#
# After each round, once the queue holds no message (every file's message
# acknowledged), the events queue is drained and, duplicates by id removed,
# the events are exactly the round's files (tests/events_tool.py round):
# no file acknowledged without a confirmed event, no event for a file not
# at DEST, each event's id the id of its fields and its dest the file.
# At the end, the usual audit (tests/audit.sh): every file at DEST exactly
# once and identical, nothing at the source, the queues empty.
#
# Figures: "events-kills: round R: E events for N files, D duplicates".
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/lib.sh"
unset SCANMOVE_JOBS
PY=$TESTS_DIR/move_util.py
EV=$TESTS_DIR/events_tool.py
AUDIT=$TESTS_DIR/audit.sh
umask 022

N=5000
MIN_KILLS=15
q="evkills-$tag"
ex="evkills-ex-$tag"
xev="$ex-moved"
qev="$q-moved"
declared=("$q" "$qev")
pid=(0 0 0)
gen=(0 0 0)
scanner=
# shellcheck disable=SC2016 # evaluated at exit
extra_cleanup='[ -z "$scanner" ] || kill -KILL "$scanner" 2>/dev/null
for p in "${pid[@]}"; do [ "$p" = 0 ] || kill -KILL "$p"; done 2>/dev/null
wait
"$PY3" "$EV" delete-exchange "$url" "$xev" >/dev/null 2>&1'

R=$WORK/root
D=$WORK/dest
mkdir -p "$R" "$D"
# 5 top dirs of 10 dirs of 100 files: sizes 0..4 KB, awkward names (one
# not UTF-8) in every dir, mtimes before and after the epoch.
"$PY3" - "$R" <<'EOF'
import os, sys
top = os.fsencode(sys.argv[1])
n = 0
for a in range(5):
    for b in range(10):
        d = os.path.join(top, b"a%d" % a, b"b%d" % b)
        os.makedirs(d)
        for i in range(100):
            name = b"f%03d.dat" % i
            if i == 0:
                name = b"with space %d.txt" % n
            elif i == 1:
                name = b"lat\xe9 %d.bin" % n
            p = os.path.join(d, name)
            with open(p, "wb") as f:
                f.write((b"%d:" % n) * ((n * 7919) % 800))
            mt = 1600000000123456789 + n * 1000003 if n % 10 else -86400 * 365 * 10 + n
            os.utime(p, ns=(mt, mt))
            n += 1
EOF
"$AUDIT" snapshot "$R" >"$WORK/m.root"
expect_eq "$(grep -ac $'\tfile ' "$WORK/m.root")" "$N" "$N files made"
run declare_topo --queue-type classic
expect_rc 0 "scan declares the topology"
"$PY3" "$EV" exchange "$url" "$xev" "$qev" "$q.moved" || fail "declare the events exchange and queue"

# Mover slots 0..2: the same arguments at every start.
slot_args() {
    case $1 in
        0) echo "--prefetch 4" ;;
        1) echo "--prefetch 8 --fsync" ;;
        2) echo "--prefetch 16" ;;
    esac
}
start_mover() {
    local i=$1 f
    gen[i]=$((gen[i] + 1))
    f=$WORK/m$i.${gen[i]}
    # shellcheck disable=SC2046 # slot_args is a list of words
    env AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --queue-type classic --from "$R" \
        --to "$D" --publish-moved "$xev" --idle-exit 4s --json $(slot_args "$i") \
        >"$f.out" 2>"$f.err" &
    pid[i]=$!
}
survivors=()
ended() {
    local i=$1 r
    set +e
    wait "${pid[i]}"
    r=$?
    set -e
    echo "$r" >"$WORK/m$i.${gen[i]}.rc"
    survivors+=("$WORK/m$i.${gen[i]}")
    pid[i]=0
}
alive() { [ "${pid[$1]}" != 0 ] && kill -0 "${pid[$1]}" 2>/dev/null; }
revive() {
    local i
    for i in 0 1 2; do
        if ! alive "$i"; then
            [ "${pid[i]}" = 0 ] || ended "$i"
            start_mover "$i"
        fi
    done
}
kill_one() {
    local i=$((RANDOM % 3))
    if alive "$i" && kill -KILL "${pid[i]}" 2>/dev/null; then
        wait "${pid[i]}" 2>/dev/null || true
        kills=$((kills + 1))
        pid[i]=0
    elif [ "${pid[i]}" != 0 ]; then
        ended "$i"
    fi
    start_mover "$i"
}
in_queue() {
    "$BROKER_SH" ctl list_queues -q name messages 2>/dev/null | awk -v q="$q" '$1 == q { print $2 }'
}

for i in 0 1 2; do
    start_mover "$i"
done
t0=$(now_ms)
deadline=$((t0 + 240000))
kills=0
round=0
while :; do
    round=$((round + 1))
    k0=$kills
    revive
    (
        set +e
        env AMQP_URL="$url" timeout 120 "$SCAN" --queue "$q" --exchange "$ex" --queue-type classic \
            --no-mime -q --json "$R" >"$WORK/scan$round.json" 2>"$WORK/scan$round.err"
        echo $? >"$WORK/scan$round.rc"
    ) &
    scanner=$!
    while :; do
        sleep "$(printf '0.%03d' $((300 + RANDOM % 401)))"
        if [ -e "$WORK/scan$round.rc" ] && [ "$(nfiles "$R")" -eq 0 ]; then
            break
        fi
        if [ "$(now_ms)" -ge "$deadline" ]; then
            fail "round $round: $(nfiles "$R") files still at the source 240 s after the start"
            break 2
        fi
        kill_one
    done
    wait "$scanner" || true
    scanner=
    expect_eq "$(cat "$WORK/scan$round.rc")" 0 "round $round: scan exit status ($(head -c 300 "$WORK/scan$round.err"))"
    # Every message acknowledged: every event confirmed, and queued.
    until [ "$(in_queue)" = 0 ]; do
        if [ "$(now_ms)" -ge "$deadline" ]; then
            fail "round $round: the queue still holds $(in_queue) messages 240 s after the start"
            break 2
        fi
        sleep 0.2
    done
    "$PY3" "$AMQP" get "$url" "$qev" 1000000 "$WORK/ev$round" >/dev/null
    run "$PY3" "$EV" round "$WORK/ev$round" "$WORK/m.root" "$R" "$D"
    expect_rc 0 "round $round: the events are the files moved"
    echo "events-kills: round $round ($((kills - k0)) kills): $(cat "$WORK/out")"
    [ "$kills" -lt "$MIN_KILLS" ] || break
    back=$("$PY3" - "$WORK/m.root" "$D" "$R" <<'EOF'
import ast, os, sys
man, dest, root = sys.argv[1], os.fsencode(sys.argv[2]), os.fsencode(sys.argv[3])
n = 0
for line in open(man):
    key, kind = line.split("\t", 2)[:2]
    if not kind.startswith("file "):
        continue
    rel = ast.literal_eval(key)
    src = os.path.join(dest, rel)
    if os.path.isfile(src) and not os.path.islink(src):
        os.rename(src, os.path.join(root, rel))
        n += 1
print(n)
EOF
    )
    expect_eq "$back" "$N" "round $round: every file renamed back for the next round"
done
echo "events-kills: $round rounds of $N files in $(($(now_ms) - t0)) ms, $kills kills"

for i in 0 1 2; do
    end=$(($(now_ms) + 60000))
    while alive "$i" && [ "$(now_ms)" -lt "$end" ]; do
        sleep 0.2
    done
    if alive "$i"; then
        fail "mover slot $i still runs 60 s after the batch was done"
        kill -KILL "${pid[i]}" 2>/dev/null || true
    fi
    ended "$i"
done

checks=$((checks + 1))
[ "$kills" -ge "$MIN_KILLS" ] || fail "only $kills kills (at least $MIN_KILLS wanted)"
for f in "${survivors[@]}"; do
    checks=$((checks + 1))
    [ "$(cat "$f.rc")" -eq 0 ] || fail "$(basename "$f"): exit status $(cat "$f.rc"): $(head -c 600 "$f.err")"
    pycheck "$(basename "$f"): --json summary" jcheck "$f.out" skipped=0 dead_lettered=0
done
cat "$WORK"/m*.err >"$WORK/all.err"
# Lines that are not the summary, or a lost events connection's requeue: errors.
checks=$((checks + 1))
grep -aEv '^move: notice: [0-9]+ moved, [0-9]+ skipped, ' "$WORK/all.err" >"$WORK/other.err" || true
[ ! -s "$WORK/other.err" ] || fail "the movers logged: $(sort "$WORK/other.err" | uniq -c | sort -rn | head -5)"
expect_eq "$(count "$qev")" 0 "no event after the last round's"
expect_eq "$(settled "$q.dead" 0)" 0 "nothing was dead-lettered"

run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" --manifest "$WORK/m.root"
expect_rc 0 "the audit"
cat "$WORK/out"
[ "$rc" -eq 0 ] || head -c 3000 "$WORK/err" >&2
expect_in out "audit: $N files: $N at DEST, 0 at the source with a message queued, 0 dead-lettered;" \
    "the audit: every file at DEST"
finish
