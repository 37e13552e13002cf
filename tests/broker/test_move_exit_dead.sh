#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1, EXIT STATUS and
# REASONS): a mover that dead-lettered a file exits 1, as rsync exits 23,
# so that cron mails the operator; one that moved everything, or found
# duplicates, exits 0 (also after --count). Each dead-letter line names
# the file, ROOT/PATH with odd bytes escaped as ls -b does, besides its id
# and reason, one line per letter. Messages for a root the mover does not
# serve are dead-lettered root-not-allowed, with one sentence per root, even
# under -q, saying what to change; they move once requeued to the right
# mover. Before issue 11 each of these runs exited 0, the lines named only the
# id, and nothing said why a whole root was dead-lettered.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

# --- exit 0: everything moved, or a duplicate ----------------------------------------------
topo clean
R=$WORK/clean/root
D=$WORK/clean/dest
mkdir -p "$R/sub" "$D"
for f in a b sub/c; do echo "$f" >"$R/$f.txt"; done
scanq "$R"
scanq --requeue-after 0 "$R" # every file twice: the second messages are duplicates
moveq --from "$R" --to "$D" --idle-exit 1s --count 4 -q
expect_rc 0 "clean: --count 4, nothing dead-lettered"
moveq --from "$R" --to "$D" --idle-exit 1s
expect_rc 0 "clean: moved and duplicates, nothing dead-lettered"
expect_re err "^move: notice: 0 moved, 0 skipped, 2 duplicates, 0 dead-lettered, 0 requeued in " \
    "clean: the second run found duplicates"

# --- exit 1: dead letters, each line naming the file -----------------------------------------
topo odd
R=$WORK/odd/root
D=$WORK/odd/dest
mkdir -p "$R/dir" "$D/dir"
names=("plain.txt" $'new\nline.txt' $'tab\there.txt' 'back\slash.txt' $'bad\xffbyte.txt'
    'café.txt' $'esc\e[31mred.txt' 'dir/with space.txt')
shown=('plain.txt' 'new\nline.txt' 'tab\there.txt' 'back\\slash.txt' 'bad\377byte.txt'
    'café.txt' 'esc\033[31mred.txt' 'dir/with space.txt')
for f in "${names[@]}"; do
    echo "new $f" >"$R/$f"
    echo "old, other bytes" >"$D/$f"
done
echo moves >"$R/moves.txt"
scanq "$R"
moveq --from "$R" --to "$D" --on-conflict fail --idle-exit 1s -q --json
expect_rc 1 "odd: dead letters make the exit status 1"
pycheck "odd: the summary" jcheck "$WORK/out" moved=1 dead_lettered="${#names[@]}"
expect_lines err "${#names[@]}" "odd: one line per dead letter (-q: nothing else)"
for s in "${shown[@]}"; do
    expect_in err "move: error: dead-lettered $R/$s (id " "odd: the line names $s"
done
expect_eq "$(grep -Ec "^move: error: dead-lettered $R/.+ \(id [0-9a-f]{32}, exists\): a different file exists at the destination$" "$WORK/err")" \
    "${#names[@]}" "odd: each line has the id, the reason and why"
checks=$((checks + 1))
! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$WORK/err" ||
    fail "odd: a control character reached stderr: $(cat -v "$WORK/err" | head -c 600)"
checks=$((checks + 1))
"$PY3" -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$WORK/err" 2>/dev/null ||
    fail "odd: a byte that is not UTF-8 reached stderr: $(cat -v "$WORK/err" | head -c 600)"
expect_eq "$(count "$q.dead")" "${#names[@]}" "odd: the letters are in $q.dead"
# --count ends the run; a dead letter in it still makes it 1.
echo newer >"$R/plain.txt"
scanq "$R"
moveq --from "$R" --to "$D" --on-conflict fail --count 1 -q
expect_rc 1 "odd: --count 1 with its one message dead-lettered"

# --- a root this mover does not serve --------------------------------------------------------
topo foreign
A=$WORK/foreign/a
B=$WORK/foreign/b
C=$WORK/foreign/c
D=$WORK/foreign/dest
mkdir -p "$A" "$B" "$C" "$D/a" "$D/b" "$D/c"
for r in "$A" "$B" "$C"; do
    for f in 1 2 3; do echo "$r $f" >"$r/$f.txt"; done
done
scanq "$A" "$B" "$C"
moveq --from "$A" --to "$D/a" --idle-exit 1s -q --json
expect_rc 1 "foreign: a mover of A with messages of B and C exits 1"
pycheck "foreign: A's moved, B's and C's dead-lettered" jcheck "$WORK/out" moved=3 \
    dead_lettered=6 'dead_by_reason={"root-not-allowed":6}'
for r in "$B" "$C"; do
    sentence="move: error: queue '$q' holds files of '$r', which is not a --from root of this mover; they are dead-lettered as root-not-allowed: give each pipeline its own --queue, or add --from $r"
    expect_eq "$(grep -cxF -- "$sentence" "$WORK/err")" 1 "foreign: $r said once, even with -q"
    for f in 1 2 3; do
        expect_re err "^move: error: dead-lettered $r/$f.txt \(id [0-9a-f]{32}, root-not-allowed\): " \
            "foreign: $r/$f.txt dead-lettered, named"
    done
done
expect_lines err 8 "foreign: 2 sentences and 6 dead-letter lines"
# After the fix (a mover for each root), the letters can be requeued.
moveq --requeue-dead -q
expect_rc 0 "foreign: --requeue-dead"
moveq --from "$B" --from "$C" --to "$D/b" --idle-exit 1s -q --json
expect_rc 0 "foreign: the mover of B and C moves them, nothing dead-lettered"
pycheck "foreign: the requeued letters moved" jcheck "$WORK/out" moved=6 dead_lettered=0
expect_lines err 0 "foreign: nothing said"

finish
