#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1 and docs/message-format.md):
# the same message twice: the second is a duplicate, acked, no conflict copy.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

# --- the same message twice: the second is a duplicate -----------------------------------
topo dup
R=$WORK/dup/root
D=$WORK/dup/dest
mkdir -p "$R/sub" "$D"
echo one >"$R/a.txt"
echo two >"$R/sub/b.tar.gz"
echo three >"$R/noext"
"$PY3" "$PY" manifest "$R" >"$WORK/dup.before"
scanq "$R"
scanq --requeue-after 0 "$R" # publish again, marks notwithstanding
expect_eq "$(count)" 6 "duplicates: two messages per file"
moveq --from "$R" --to "$D" --idle-exit 1s --json
expect_rc 0 "duplicates"
pycheck "duplicates: --json summary" jcheck "$WORK/out" moved=3 duplicates=3 dead_lettered=0 \
    skipped=0
expect_summary 3 0 3 0 0 "duplicates"
expect_manifest "$WORK/dup.before" "$D" "duplicates: DEST has each file once, no conflict copy"
expect_no_files "$R" "duplicates: ROOT empty"
expect_eq "$(count)" 0 "duplicates: queue empty (the second messages acked)"
expect_eq "$(count "$q.dead")" 0 "duplicates: nothing dead-lettered"

finish
