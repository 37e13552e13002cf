#!/usr/bin/env bash
# Field: the destination, or directories below it, removed under a running
# mover (issue 9, defect 3).
#   1. DEST deleted and made again (rm -rf DEST; mkdir DEST) while a mover
#      waits: the files scanned afterwards (top level and in a
#      subdirectory) are moved into the new DEST, none is dead-lettered
#      "vanished" while its source is in place;
#   2. DEST deleted and not made again: the mover stops with one sentence
#      and exit 66, the file stays at its source with its message queued;
#   3. a cleanup job deleting empty directories under DEST (find DEST -type
#      d -empty -delete, in a loop) while a mover makes them: every file is
#      moved, none dead-lettered. strace slows each rename by 20 ms, so that
#      the job often deletes a directory between its creation and the
#      rename into it.
# Each part ends with the audit.
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
AUDIT=$TESTS_DIR/audit.sh
umask 022

. "$TESTS_DIR/faults/faults.sh"
PY=$TESTS_DIR/move_util.py # for pycheck and jnum
q=faults-destrm-$tag
ex=faults-destrm-ex-$tag
declared+=("$q")
C=$WORK/canary
mkdir -p "$C"
echo "outside the roots" >"$C/keep.txt"
"$AUDIT" snapshot "$C" >"$WORK/canary.manifest"
deleter=
extra_cleanup='[ -z "$deleter" ] || kill "$deleter" 2>/dev/null'

audit() {
    run "$AUDIT" check --url "$url" --queue "$q" --root "$2" --dest "$3" \
        --manifest "$WORK/$1.manifest" --outside "$C=$WORK/canary.manifest"
    expect_rc 0 "$1: the audit passes"
    [ "$rc" = 0 ] || cat "$WORK/out" "$WORK/err" >&2
}

scan() { env AMQP_URL="$url" timeout 60 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q \
    --delivery-limit 20 "$@"; }
has_consumer() { [ "$(consumers)" = 1 ]; }

# The queue exists before the first mover waits on it.
run declare_topo --no-mime --delivery-limit 20
expect_rc 0 "scan declares the queue"

# ---- 1. DEST deleted and made again -----------------------------------------
R1=$WORK/r1 D1=$WORK/d1
mkdir -p "$R1" "$D1"
bg_start env AMQP_URL="$url" timeout 120 "$MOVE" --queue "$q" --exchange "$ex" --delivery-limit 20 \
    --from "$R1" --to "$D1" --idle-exit 4s --json
checks=$((checks + 1))
wait_for 20 has_consumer || fail "recreated: the mover did not start consuming"
rm -rf "$D1"
mkdir "$D1"
mkdir -p "$R1/sub"
for i in 1 2 3 4 5; do
    echo "top $i" >"$R1/t$i.txt"
    echo "sub $i" >"$R1/sub/s$i.txt"
done
"$AUDIT" snapshot "$R1" >"$WORK/recreated.manifest"
run scan "$R1"
expect_rc 0 "recreated: scan"
bg_wait 60
cp "$WORK/err" "$WORK/err.saved"
expect_rc 0 "recreated: the mover ($bg_how)"
pycheck "recreated: all 10 moved into the new DEST" jcheck "$WORK/out" moved=10 dead_lettered=0
expect_in err "was deleted and made again" "recreated: the mover says it opened DEST again"
audit recreated "$R1" "$D1"

# ---- 2. DEST deleted for good ------------------------------------------------
R2=$WORK/r2 D2=$WORK/d2
mkdir -p "$R2" "$D2"
bg_start env AMQP_URL="$url" timeout 120 "$MOVE" --queue "$q" --exchange "$ex" --delivery-limit 20 \
    --from "$R2" --to "$D2" --idle-exit 10s
checks=$((checks + 1))
wait_for 20 has_consumer || fail "deleted: the mover did not start consuming"
rm -rf "$D2"
echo "stays" >"$R2/stays.txt"
"$AUDIT" snapshot "$R2" >"$WORK/deleted.manifest"
run scan "$R2"
expect_rc 0 "deleted: scan"
bg_wait 30
expect_rc 66 "deleted: the mover stops ($bg_how)"
expect_in err "the destination directory $D2 was deleted while the mover ran" \
    "deleted: the mover says why"
expect_not_in err "move: dead-lettered" "deleted: nothing dead-lettered"
mkdir "$D2"
audit deleted "$R2" "$D2"
# The message is still there for a mover with a destination.
run env AMQP_URL="$url" timeout 60 "$MOVE" --queue "$q" --exchange "$ex" --delivery-limit 20 \
    --from "$R2" --to "$D2" --idle-exit 2s --json
expect_rc 0 "deleted: a mover with DEST back"
pycheck "deleted: the file moves once DEST is back" jcheck "$WORK/out" moved=1 dead_lettered=0

# ---- 3. a cleanup job deletes empty directories under DEST -------------------
R3=$WORK/r3 D3=$WORK/d3
mkdir -p "$R3" "$D3"
for i in $(seq 1 100); do
    mkdir "$R3/dir$i"
    echo "file $i" >"$R3/dir$i/f.txt"
done
"$AUDIT" snapshot "$R3" >"$WORK/cleanup.manifest"
run scan "$R3"
expect_rc 0 "cleanup: scan"
(while :; do
    find "$D3" -mindepth 1 -type d -empty -delete 2>/dev/null
    sleep 0.05
done) &
deleter=$!
run timeout 180 strace -f -o /dev/null -e trace=renameat2 -e inject=renameat2:delay_enter=20000 \
    env "$NO_LSAN" AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --delivery-limit 20 --from "$R3" \
    --to "$D3" --idle-exit 3s --json
kill "$deleter"
wait "$deleter" 2>/dev/null || true
deleter=
expect_rc 0 "cleanup: the mover"
pycheck "cleanup: all 100 moved, none dead-lettered" jcheck "$WORK/out" moved=100 dead_lettered=0
echo "cleanup: $("$PY3" "$PY" jnum "$WORK/out" requeued) requeued while empty directories were deleted" >&2
audit cleanup "$R3" "$D3"

finish
