#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1 and docs/message-format.md):
# move takes every file scan published (200 awkward ones) to DEST/<same
# relative path>, byte-identical with its mode and mtime; --json; the summary line.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

# --- basic: 200 awkward files move to DEST, identical ---------------------------------
topo basic
R=$WORK/basic/root
D=$WORK/basic/dest
mkdir -p "$R" "$D"
"$PY3" "$PY" mktree "$R" 200 1
"$PY3" "$PY" manifest "$R" >"$WORK/basic.before"
expect_eq "$(wc -l <"$WORK/basic.before")" 200 "basic: 200 files made"
ndirs=$(find "$R" -type d | wc -l)
scanq "$R"
expect_eq "$(count)" 200 "basic: 200 messages queued"
moveq --from "$R" --to "$D" --idle-exit 2s --json
expect_rc 0 "basic: move --idle-exit 2s"
expect_lines out 1 "basic: --json prints one line"
pycheck "basic: --json summary" jcheck "$WORK/out" moved=200 skipped=0 duplicates=0 \
    dead_lettered=0 requeued=0 'dead_by_reason={}'
expect_summary 200 0 0 0 0 "basic"
expect_not_in err "dead-lettered " "basic: nothing dead-lettered"
expect_manifest "$WORK/basic.before" "$D" "basic: DEST holds every file, same bytes, mode, mtime"
expect_no_files "$R" "basic: ROOT keeps only directories"
expect_eq "$(find "$R" -type d | wc -l)" "$ndirs" "basic: ROOT keeps its directories"
expect_eq "$(count)" 0 "basic: the queue is empty"
expect_eq "$(count "$q.dead")" 0 "basic: nothing dead-lettered"
expect_eq "$(find "$D" -mindepth 1 -type d ! -perm 0755 | head -3)" "" \
    "basic: directories made with mode 0755 (umask 022)"

finish
