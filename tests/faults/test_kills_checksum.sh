#!/usr/bin/env bash
# Fault scenario "Mover killed", with checksums and copies: tests/faults/
# test_kills.sh's storm on 5,000 files scanned with --checksum and moved to
# another file system (DEST on a tmpfs, in a private mount namespace that a
# holder process keeps; the movers, the copy back and the audit enter it
# with nsenter), so that every move is a copy whose content is hashed and
# compared before its source goes. Three movers; every 200-500 ms one of
# them (at random) gets SIGKILL and is started again with the same
# arguments; at least 30 kills. Afterwards (tests/audit.sh) every file is at
# DEST exactly once and identical, nothing is left at the source, no
# duplicate, conflict copy or temporary, a canary directory beside ROOT is
# untouched, both the queue and <queue>.dead are empty (no
# checksum-mismatch), and the movers that were not killed checked every
# file they copied (verified = moved).
#
# Movers: --prefetch 4, 8 (with --fsync) and 16; --idle-exit 4s; -v. A round
# is scan --checksum ROOT (while the movers run), every file moved, then --
# once the queue holds no message, ready or unacknowledged -- the files are
# copied back from DEST to ROOT (mode and mtime kept; new inodes, so new
# ids); rounds go on until 30 kills.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/lib.sh"
unset SCANMOVE_JOBS
PY=$TESTS_DIR/move_util.py
AUDIT=$TESTS_DIR/audit.sh
umask 022

N=5000
MIN_KILLS=30
q="killsck-$tag"
ex="killsck-ex-$tag"
declared=("$q")
pid=(0 0 0)
gen=(0 0 0)
scanner=
holder=
# shellcheck disable=SC2016 # evaluated at exit
extra_cleanup='[ -z "$scanner" ] || kill -KILL "$scanner" 2>/dev/null
for p in "${pid[@]}"; do [ "$p" = 0 ] || kill -KILL "$p"; done 2>/dev/null
[ -z "$holder" ] || kill -KILL "$holder" 2>/dev/null
wait'

R=$WORK/root
D=$WORK/dest
C=$WORK/canary
mkdir -p "$R" "$D" "$C/sub"
# DEST: a tmpfs in a mount namespace of its own, kept by a holder process.
# shellcheck disable=SC2016 # $1 and $2 are expanded by the inner sh
unshare -m sh -c 'mount -t tmpfs tmpfs "$1" && : >"$2" && exec sleep 100000' sh "$D" \
    "$WORK/ns.ready" 2>"$WORK/ns.err" &
holder=$!
for _ in $(seq 100); do
    [ -e "$WORK/ns.ready" ] || ! kill -0 "$holder" 2>/dev/null || sleep 0.05
done
[ -e "$WORK/ns.ready" ] || skip "cannot mount a tmpfs in a private mount namespace: $(cat "$WORK/ns.err")"
# in_ns CMD... : run CMD where DEST is the tmpfs.
in_ns() { nsenter -t "$holder" -m -- "$@"; }
[ "$(in_ns stat -c %d "$D")" != "$(stat -c %d "$R")" ] || fail "DEST is not on another file system"
# 5 top dirs a00..a04 of 10 dirs of 100 files: sizes 0..24 KB (so that reading
# back and hashing is a part of each copy), four modes, mtimes before and
# after the epoch, a few awkward names in every dir.
"$PY3" - "$R" <<'EOF'
import os, sys
top = os.fsencode(sys.argv[1])
modes = [0o644, 0o600, 0o755, 0o444]
n = 0
for a in range(5):
    for b in range(10):
        d = os.path.join(top, b"a%02d" % a, b"b%d" % b)
        os.makedirs(d)
        for i in range(100):
            name = b"f%03d.dat" % i
            if i == 0:
                name = b"with space %d.txt" % n
            elif i == 1:
                name = b"-dash %d" % n
            elif i == 2:
                name = b"lat\xe9 %d.bin" % n
            elif i == 3:
                name = b"L" * 200 + b"%d" % n
            p = os.path.join(d, name)
            with open(p, "wb") as f:
                f.write((b"%d:" % n) * ((n * 7919) % 4000))
            os.chmod(p, modes[n % 4])
            mt = 1600000000123456789 + n * 1000003 if n % 10 else -86400 * 365 * 10 + n
            os.utime(p, ns=(mt, mt))
            n += 1
EOF
printf 'canary\n' >"$C/c.txt"
printf 'deeper canary\n' >"$C/sub/d.txt"
ln -s ../root "$C/to-root"
"$AUDIT" snapshot "$R" >"$WORK/m.root"
"$AUDIT" snapshot "$C" >"$WORK/m.canary"
expect_eq "$(grep -ac $'\tfile ' "$WORK/m.root")" "$N" "$N files made"
run declare_topo
expect_rc 0 "scan declares the topology"

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
    in_ns env AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
        --idle-exit 4s --json -v $(slot_args "$i") >"$f.out" 2>"$f.err" &
    pid[i]=$!
}
survivors=()
# ended I : mover I exited by itself: keep its status and summary.
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

# alive I : mover I runs.
alive() { [ "${pid[$1]}" != 0 ] && kill -0 "${pid[$1]}" 2>/dev/null; }
# revive : restart the movers that exited by themselves (--idle-exit).
revive() {
    local i
    for i in 0 1 2; do
        if ! alive "$i"; then
            [ "${pid[i]}" = 0 ] || ended "$i"
            start_mover "$i"
        fi
    done
}
# kill_one : SIGKILL a random mover and start it again.
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
# in_queue : messages of $q, ready and unacknowledged (rabbitmqctl).
in_queue() {
    "$BROKER_SH" ctl list_queues -q name messages 2>/dev/null | awk -v q="$q" '$1 == q { print $2 }'
}

for i in 0 1 2; do
    start_mover "$i"
done
t0=$(now_ms)
deadline=$((t0 + 300000))
kills=0
round=0
rounds_log=
while :; do
    round=$((round + 1))
    k0=$kills
    r0=$(now_ms)
    revive
    # Publish the batch while the movers run, and kill every 200-500 ms
    # until every file is moved.
    (
        set +e
        env AMQP_URL="$url" timeout 120 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q --json \
            --checksum "$R" >"$WORK/scan$round.json" 2>"$WORK/scan$round.err"
        echo $? >"$WORK/scan$round.rc"
    ) &
    scanner=$!
    while :; do
        sleep "$(printf '0.%03d' $((200 + RANDOM % 301)))"
        if [ -e "$WORK/scan$round.rc" ] && [ "$(nfiles "$R")" -eq 0 ]; then
            break
        fi
        if [ "$(now_ms)" -ge "$deadline" ]; then
            fail "round $round: $(nfiles "$R") files still at the source 300 s after the start"
            break 2
        fi
        kill_one
    done
    wait "$scanner" || true
    scanner=
    rc=$(cat "$WORK/scan$round.rc")
    expect_eq "$rc" 0 "round $round: scan exit status ($(head -c 300 "$WORK/scan$round.err"))"
    expect_eq "$("$PY3" "$PY" jnum "$WORK/scan$round.json" published)" "$N" \
        "round $round: scan published every file"
    rounds_log="$rounds_log round $round: $((kills - k0)) kills in $(($(now_ms) - r0)) ms;"
    [ "$kills" -lt "$MIN_KILLS" ] || break
    # Republish: wait until the queue holds nothing (a leftover duplicate
    # must not meet a file being copied back), then copy the files back.
    until [ "$(in_queue)" = 0 ]; do
        if [ "$(now_ms)" -ge "$deadline" ]; then
            fail "round $round: the queue still holds $(in_queue) messages 300 s after the start"
            break 2
        fi
        sleep 0.2
    done
    back=$(in_ns "$PY3" - "$WORK/m.root" "$D" "$R" <<'EOF'
import ast, os, shutil, sys
man, dest, root = sys.argv[1], os.fsencode(sys.argv[2]), os.fsencode(sys.argv[3])
n = 0
for line in open(man):
    key, kind = line.split("\t", 2)[:2]
    if not kind.startswith("file "):
        continue
    rel = ast.literal_eval(key)
    src = os.path.join(dest, rel)
    if os.path.isfile(src) and not os.path.islink(src):
        shutil.copy2(src, os.path.join(root, rel))
        os.unlink(src)
        n += 1
print(n)
EOF
    )
    expect_eq "$back" "$N" "round $round: every file copied back for the next round"
done
elapsed=$(($(now_ms) - t0))
echo "kills:$rounds_log"
echo "kills: $round rounds of $N files in $elapsed ms, $kills kills; waiting for the movers to go idle"

# The last three movers drain what the kills sent back, and exit by --idle-exit.
for i in 0 1 2; do
    end=$(($(now_ms) + 120000))
    while alive "$i" && [ "$(now_ms)" -lt "$end" ]; do
        sleep 0.2
    done
    if alive "$i"; then
        fail "mover slot $i still runs 120 s after the batch was done"
        kill -KILL "${pid[i]}" 2>/dev/null || true
    fi
    ended "$i"
done

# --- the movers -------------------------------------------------------------------------------
checks=$((checks + 1))
[ "$kills" -ge "$MIN_KILLS" ] || fail "only $kills kills (at least $MIN_KILLS wanted)"
dups=0
moved=0
verified=0
for f in "${survivors[@]}"; do
    rc=$(cat "$f.rc")
    checks=$((checks + 1))
    [ "$rc" -eq 0 ] || fail "$(basename "$f"): exit status $rc: $(grep -av '^move: \(already \)\?moved ' "$f.err" | head -c 600)"
    pycheck "$(basename "$f"): --json summary" jcheck "$f.out" skipped=0 dead_lettered=0 requeued=0
    dups=$((dups + $("$PY3" "$PY" jnum "$f.out" duplicates)))
    moved=$((moved + $("$PY3" "$PY" jnum "$f.out" moved)))
    verified=$((verified + $("$PY3" "$PY" jnum "$f.out" verified)))
done
expect_eq "$verified" "$moved" "the movers not killed checked the hash of every file they copied"
nmovers=$((gen[0] + gen[1] + gen[2]))
cat "$WORK"/m*.err >"$WORK/all.err"
vmoved=$(grep -ac '^move: info: moved ' "$WORK/all.err" || true)
vdups=$(grep -ac '^move: info: already moved ' "$WORK/all.err" || true)
# A rename is logged right after it is done: a kill in between loses the
# line, so N * rounds - kills <= lines <= N * rounds; no file is logged
# moved more often than once a round.
checks=$((checks + 1))
[ "$vmoved" -le $((N * round)) ] && [ "$vmoved" -ge $((N * round - kills)) ] ||
    fail "the movers' logs have $vmoved 'moved' lines for $round rounds of $N files and $kills kills"
checks=$((checks + 1))
twice=$(grep -a "^move: info: moved " "$WORK/all.err" | sort | uniq -c | awk -v r="$round" '$1 > r' | head -5)
[ -z "$twice" ] || fail "files logged as moved more often than $round times: $twice"
# Lines that are not a file handled, the broker reached (-v) or the summary: errors.
checks=$((checks + 1))
grep -aEv '^move: (info: (moved|already moved|another process holds a lock on)|(info|notice): connected to) |^move: notice: [0-9]+ moved, [0-9]+ skipped, ' "$WORK/all.err" \
    >"$WORK/other.err" || true
[ ! -s "$WORK/other.err" ] || fail "the movers logged: $(sort "$WORK/other.err" | uniq -c | sort -rn | head -5)"
expect_eq "$(settled "$q" 0)" 0 "the queue is empty"
expect_eq "$(settled "$q.dead" 0)" 0 "nothing was dead-lettered"

# --- the audit --------------------------------------------------------------------------------
run in_ns "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" --manifest "$WORK/m.root" \
    --outside "$C=$WORK/m.canary"
expect_rc 0 "the audit"
cat "$WORK/out"
[ "$rc" -eq 0 ] || head -c 3000 "$WORK/err" >&2
expect_in out "audit: $N files: $N at DEST, 0 at the source with a message queued, 0 dead-lettered;" \
    "the audit: every file at DEST"

echo "kills: $nmovers movers started, ${#survivors[@]} not killed; $moved files moved by those, the rest by killed ones"
echo "kills: $vdups 'already moved' lines in the -v logs of all $nmovers movers (killed ones included)"
echo "kills: $kills kills, $dups duplicates handled"
finish
