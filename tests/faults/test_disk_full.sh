#!/usr/bin/env bash
# Fault: the destination fills up mid-batch (issue 5, scenario 3).
#
# DEST is a 1 MiB tmpfs (another filesystem than ROOT, so every move is a
# copy) and the batch is 2 MB. The files that fit are moved; the others
# fail with ENOSPC, which is transient: each is requeued until the quorum
# queue's delivery limit dead-letters it. No partial or temporary file is
# left at DEST and the sources stay intact (the audit). Once space is freed
# (the tmpfs grown), `move --requeue-dead` puts the dead letters back and a
# mover finishes the batch (the audit again, everything at DEST).
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
AUDIT=$TESTS_DIR/audit.sh
umask 022

. "$TESTS_DIR/faults/faults.sh"
PY=$TESTS_DIR/move_util.py # for pycheck and jnum
q=faults-full-$tag
ex=faults-full-ex-$tag
declared+=("$q")

R=$WORK/root
D=$WORK/dest
C=$WORK/canary
mkdir -p "$R/a" "$R/b" "$D" "$C"
for i in $(seq 1 20); do
    head -c 100000 /dev/urandom >"$R/$([ $((i % 2)) = 0 ] && echo a || echo b)/file$i.bin"
done
echo "outside the roots" >"$C/keep.txt"
"$AUDIT" snapshot "$R" >"$WORK/root.manifest"
"$AUDIT" snapshot "$C" >"$WORK/canary.manifest"

# A low delivery limit keeps the retries short: each failing file is
# delivered three times, a second apart, before the broker dead-letters it.
run env AMQP_URL="$url" timeout 60 "$SCAN" --queue "$q" --exchange "$ex" --delivery-limit 2 \
    --no-mime -q "$R"
expect_rc 0 "scan"

cat >"$WORK/inner.sh" <<'EOF'
# In a private mount namespace: DEST on a 1 MiB tmpfs.
set -u
W=$1 url=$2 MOVE=$3 AUDIT=$4 q=$5 ex=$6
R=$W/root D=$W/dest
mount -t tmpfs -o size=1m tmpfs "$D" || exit 90
env AMQP_URL="$url" timeout 240 "$MOVE" --queue "$q" --exchange "$ex" --delivery-limit 2 \
    --from "$R" --to "$D" --idle-exit 3s --json >"$W/out1" 2>"$W/err1"
echo $? >"$W/rc1"
ls -A "$D" "$D"/* >"$W/dest1" 2>&1
"$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" \
    --manifest "$W/root.manifest" --outside "$W/canary=$W/canary.manifest" \
    >"$W/audit1" 2>"$W/audit1.err"
echo $? >"$W/arc1"
# Space is freed: the tmpfs grows. The dead letters go back to the queue.
mount -o remount,size=64m "$D" || exit 91
env AMQP_URL="$url" timeout 60 "$MOVE" --queue "$q" --exchange "$ex" --delivery-limit 2 \
    --requeue-dead --json >"$W/rq" 2>"$W/rq.err"
echo $? >"$W/rqrc"
env AMQP_URL="$url" timeout 120 "$MOVE" --queue "$q" --exchange "$ex" --delivery-limit 2 \
    --from "$R" --to "$D" --idle-exit 2s --json >"$W/out2" 2>"$W/err2"
echo $? >"$W/rc2"
"$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" \
    --manifest "$W/root.manifest" --outside "$W/canary=$W/canary.manifest" \
    >"$W/audit2" 2>"$W/audit2.err"
echo $? >"$W/arc2"
EOF

# shellcheck disable=SC2016 # $1 is expanded by the inner sh
if ! unshare -m sh -c 'mount -t tmpfs tmpfs "$1"' sh "$D" 2>/dev/null; then
    skip "cannot mount a tmpfs in a private mount namespace"
fi
set +e
unshare -m bash "$WORK/inner.sh" "$WORK" "$url" "$MOVE" "$AUDIT" "$q" "$ex"
rc=$?
set -e
expect_rc 0 "the namespace script"

# Full: some moved, the rest requeued until dead-lettered by the broker.
expect_eq "$(cat "$WORK/rc1")" 0 "full: the mover exits 0"
moved1=$("$PY3" "$TESTS_DIR/move_util.py" jnum "$WORK/out1" moved)
requeued1=$("$PY3" "$TESTS_DIR/move_util.py" jnum "$WORK/out1" requeued)
dead1=$("$PY3" "$TESTS_DIR/move_util.py" jnum "$WORK/out1" dead_lettered)
checks=$((checks + 1))
[ "$moved1" -ge 1 ] && [ "$moved1" -lt 20 ] ||
    fail "full: moved $moved1 of 20; the test expects the 1 MiB DEST to fill mid-batch"
checks=$((checks + 1))
[ "$requeued1" -ge $((2 * (20 - moved1))) ] ||
    fail "full: requeued $requeued1 times for $((20 - moved1)) files that did not fit"
expect_eq "$dead1" 0 "full: the mover dead-letters nothing itself (no-space is transient)"
expect_re err1 "requeued [0-9a-f]{32} \(no-space\): " "full: the mover says why it requeues"
checks=$((checks + 1))
grep -q '\.scanmove-' "$WORK/dest1" && fail "full: a temporary file at DEST: $(cat "$WORK/dest1")"
expect_eq "$(cat "$WORK/arc1")" 0 "full: the audit passes (nothing lost, nothing partial)"
[ "$(cat "$WORK/arc1")" = 0 ] || cat "$WORK/audit1" "$WORK/audit1.err" >&2
expect_re audit1 "$((20 - moved1)) dead-lettered" "full: the unmoved files are dead-lettered"

# After space is freed: requeued, then all moved.
expect_eq "$(cat "$WORK/rqrc")" 0 "freed: move --requeue-dead exits 0"
expect_eq "$(cat "$WORK/rq")" "{\"requeued_dead\":$((20 - moved1)),\"dropped_dead\":0,\"dropped_by_reason\":{\"gone\":0,\"changed\":0,\"at-dest\":0},\"left_dead\":0,\"dry_run\":false}" \
    "freed: every dead letter requeued"
expect_eq "$(cat "$WORK/rc2")" 0 "freed: the mover exits 0"
pycheck "freed: the rest moved" jcheck "$WORK/out2" moved=$((20 - moved1)) dead_lettered=0 \
    requeued=0
expect_eq "$(cat "$WORK/arc2")" 0 "freed: the audit passes"
[ "$(cat "$WORK/arc2")" = 0 ] || cat "$WORK/audit2" "$WORK/audit2.err" >&2
expect_re audit2 "20 files: 20 at DEST" "freed: all 20 files at DEST"
echo "disk full: $moved1 of 20 moved before DEST filled, $requeued1 requeues, $((20 - moved1)) dead-lettered, then requeued and moved" >&2

finish
