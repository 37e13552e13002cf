#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1 and docs/message-format.md):
# --requeue-dead puts dead letters back on the queue (--count, --json); the
# letters of obsolete files and the filters are tested in test_move_dead*.sh.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

# --- --requeue-dead puts dead letters back on the queue ---------------------------------
topo requeue
R=$WORK/requeue/root
D=$WORK/requeue/dest
B=$WORK/requeue/bodies
mkdir -p "$R" "$D" "$B"
for f in a b c; do
    echo "content of $f" >"$R/$f.txt"
    "$PY3" "$PY" msg "$B/$f" "$R" "$f.txt" "$R/$f.txt"
done
publish "$B/a" "$B/b" "$B/c"
moveq --from "$B" --to "$D" --idle-exit 1s --json
expect_rc 1 "requeue: a mover without the root (1: it dead-lettered)"
pycheck "requeue: all three dead-lettered" jcheck "$WORK/out" moved=0 dead_lettered=3 \
    'dead_by_reason={"root-not-allowed":3}'
expect_eq "$(count "$q.dead")" 3 "requeue: three dead letters"
moveq --requeue-dead --count 2 --json
expect_rc 0 "requeue: --requeue-dead --count 2"
expect_eq "$(cat "$WORK/out")" \
    '{"requeued_dead":2,"dropped_dead":0,"dropped_by_reason":{"gone":0,"changed":0,"at-dest":0},"left_dead":1,"dry_run":false}' \
    "requeue: --json counts two"
expect_re err "^move: notice: requeued 2 dead letters from '$q.dead' to exchange '$ex'; dropped 0 \(0 gone, 0 changed, 0 already at DEST\); left 1 in place\$" \
    "requeue: the summary line"
expect_eq "$(count) $(count "$q.dead")" "2 1" "requeue: two back on the queue, one left"
moveq --requeue-dead -q
expect_rc 0 "requeue: --requeue-dead the rest"
expect_eq "$(count) $(count "$q.dead")" "3 0" "requeue: all back on the queue"
moveq --requeue-dead --json
expect_eq "$(cat "$WORK/out")" \
    '{"requeued_dead":0,"dropped_dead":0,"dropped_by_reason":{"gone":0,"changed":0,"at-dest":0},"left_dead":0,"dry_run":false}' \
    "requeue: nothing left to requeue"
moveq --from "$R" --to "$D" --idle-exit 1s --json
pycheck "requeue: the right mover moves them" jcheck "$WORK/out" moved=3 dead_lettered=0
expect_files "$D" "requeue: all three at DEST" "'a.txt'" "'b.txt'" "'c.txt'"
moveq --requeue-dead --from "$R" --to "$D"
expect_rc 0 "requeue: --requeue-dead with --from and --to"
moveq --requeue-dead --from "$WORK/nowhere"
expect_rc 66 "requeue: --requeue-dead with a --from that does not exist"

finish
