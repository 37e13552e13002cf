#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1 and docs/message-format.md):
# files changed or vanished after the scan are dead-lettered (changed,
# vanished) and stay as they are.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

# --- changed and vanished files --------------------------------------------------------
topo changed
R=$WORK/changed/root
D=$WORK/changed/dest
mkdir -p "$R" "$D" "$WORK/changed/orig"
for f in grown replaced touched gone gone2 fine; do echo "content of $f" >"$R/$f.txt"; done
echo "another size" >"$D/gone2.txt"
scanq "$R"
echo more >>"$R/grown.txt"
"$PY3" "$PY" replace "$R/replaced.txt" || fail "changed: replace"
"$PY3" "$PY" touchns "$R/touched.txt" 1 || fail "changed: touchns"
rm "$R/gone.txt" "$R/gone2.txt"
cp -a "$R/." "$WORK/changed/orig/"
cp -a "$D/gone2.txt" "$WORK/changed/gone2.orig"
printf '%s\t%s\n' changed grown.txt changed replaced.txt changed touched.txt vanished gone.txt \
    vanished gone2.txt >"$WORK/expect"
moveq --from "$R" --to "$D" --idle-exit 1s --json
expect_rc 1 "changed (1: some were dead-lettered)"
pycheck "changed: --json summary" jcheck "$WORK/out" moved=1 dead_lettered=5 duplicates=0 \
    'dead_by_reason={"changed":3,"vanished":2}'
expect_summary 1 0 0 5 0 "changed"
expect_eq "$(dead "$WORK/dead")" 5 "changed: five dead letters"
pycheck "changed: dead letters with their reasons" checkdead "$WORK/dead" "$WORK/expect" "$ex.dlx" "$q"
for f in grown replaced touched; do
    pycheck "changed: $f.txt stays in place as it is" same "$WORK/changed/orig/$f.txt" "$R/$f.txt"
done
expect_files "$D" "changed: only the unchanged file moved" "'fine.txt'" "'gone2.txt'"
pycheck "changed: a different file at DEST is no duplicate, and untouched" same \
    "$WORK/changed/gone2.orig" "$D/gone2.txt"

finish
