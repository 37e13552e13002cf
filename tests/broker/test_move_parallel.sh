#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1 and docs/message-format.md):
# two movers share a queue of 2000 files, one naming ROOT by a symlink:
# every file moved exactly once.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

# --- two movers in parallel, 2000 files, one of them names ROOT by a symlink -------------
topo par
R=$WORK/par/root
D=$WORK/par/dest
mkdir -p "$R" "$D"
ln -s "$R" "$WORK/par/rootlink"
"$PY3" "$PY" mktree "$R" 2000 2
"$PY3" "$PY" manifest "$R" >"$WORK/par.before"
scanq "$R"
expect_eq "$(count)" 2000 "parallel: 2000 messages queued"
for i in 1 2; do
    from=$R
    [ "$i" = 2 ] && from=$WORK/par/rootlink
    (
        set +e
        env AMQP_URL="$url" timeout 120 "$MOVE" --queue "$q" --exchange "$ex" --from "$from" \
            --to "$D" --idle-exit 2s --json >"$WORK/par.out$i" 2>"$WORK/par.err$i"
        echo $? >"$WORK/par.rc$i"
    ) &
done
wait
for i in 1 2; do
    cp "$WORK/par.err$i" "$WORK/err"
    rc=$(cat "$WORK/par.rc$i")
    expect_rc 0 "parallel: mover $i"
    expect_summary '[0-9]+' 0 '[0-9]+' 0 0 "parallel: mover $i"
done
m1=$("$PY3" "$PY" jnum "$WORK/par.out1" moved)
m2=$("$PY3" "$PY" jnum "$WORK/par.out2" moved)
d1=$("$PY3" "$PY" jnum "$WORK/par.out1" duplicates)
d2=$("$PY3" "$PY" jnum "$WORK/par.out2" duplicates)
expect_eq "$((m1 + m2))" 2000 "parallel: the movers moved 2000 files between them"
expect_eq "$((d1 + d2))" 0 "parallel: no duplicates"
[ "$m1" -gt 0 ] && [ "$m2" -gt 0 ] ||
    echo "NOTE: parallel: one mover did all the work ($m1 + $m2)" >&2
expect_manifest "$WORK/par.before" "$D" "parallel: every file exactly once at DEST"
expect_no_files "$R" "parallel: ROOT keeps only directories"
expect_eq "$(count)" 0 "parallel: the queue is empty"
expect_eq "$(count "$q.dead")" 0 "parallel: nothing dead-lettered"

finish
