#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1 and docs/message-format.md):
# --count N stops after N messages; --prefetch 1, -q and --idle-exit.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

# --- --count N stops after N messages ------------------------------------------------
topo count
R=$WORK/count/root
D=$WORK/count/dest
mkdir -p "$R" "$D"
for i in $(seq 10); do echo "$i" >"$R/f$i"; done
scanq "$R"
moveq --from "$R" --to "$D" --count 4 --json
expect_rc 0 "--count 4"
pycheck "--count 4: --json summary" jcheck "$WORK/out" moved=4 dead_lettered=0
expect_summary 4 0 0 0 0 "--count 4"
expect_eq "$(find "$D" -type f | wc -l)" 4 "--count 4: four files at DEST"
expect_eq "$(find "$R" -type f | wc -l)" 6 "--count 4: six left in ROOT"
wait_count 6
expect_eq "$(count)" 6 "--count 4: the queue keeps the other six"
moveq --from "$R" --to "$D" --idle-exit 1s --prefetch 1 -q
expect_rc 0 "--count: the rest (--prefetch 1 -q)"
expect_lines err 0 "-q: no summary line"
expect_lines out 0 "nothing on stdout without --json"
expect_eq "$(find "$D" -type f | wc -l)" 10 "--count: all ten at DEST in the end"

finish
