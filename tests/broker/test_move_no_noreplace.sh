#!/usr/bin/env bash
# Against the private broker: a file system without renameat2's
# RENAME_NOREPLACE (the Linux NFS client answers EINVAL to any flag), made
# here by strace failing every renameat2 with EINVAL (docs/deploy.md, NFS):
#   1. files on one file system still move, by link and unlink, none
#      dead-lettered, byte-identical;
#   2. --on-conflict rename still finds free names;
#   3. the state a crash leaves between the link and the unlink (both names
#      on one inode) is finished by the redelivery: the source goes, one
#      file at DEST.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"
command -v strace >/dev/null || skip "strace is not installed"

# nfsmove ARGS... : move on $q with every renameat2 failing EINVAL.
nfsmove() {
    run env "$NO_LSAN" AMQP_URL="$url" timeout 120 strace -f -o /dev/null -e trace=renameat2 \
        -e inject=renameat2:error=EINVAL "$MOVE" --queue "$q" --exchange "$ex" "$@"
}

# --- 1. plain moves ------------------------------------------------------------------
topo plain
R=$WORK/plain/root
D=$WORK/plain/dest
mkdir -p "$R" "$D"
"$PY3" "$PY" mktree "$R" 100 1
"$PY3" "$PY" manifest "$R" >"$WORK/plain.before"
scanq "$R"
nfsmove --from "$R" --to "$D" --idle-exit 1s --json
expect_rc 0 "plain: move without RENAME_NOREPLACE"
pycheck "plain: --json summary" jcheck "$WORK/out" moved=100 dead_lettered=0 duplicates=0
expect_manifest "$WORK/plain.before" "$D" "plain: DEST holds every file, same bytes, mode, mtime"
expect_no_files "$R" "plain: ROOT keeps no file"
expect_eq "$(count "$q.dead")" 0 "plain: nothing dead-lettered"

# --- 2. --on-conflict rename -----------------------------------------------------------
topo conflict
R=$WORK/conflict/root
D=$WORK/conflict/dest
mkdir -p "$R/d" "$D/d"
for i in 1 2 3; do
    echo "new $i" >"$R/d/f$i.txt"
    echo "old $i" >"$D/d/f$i.txt"
done
scanq "$R"
nfsmove --from "$R" --to "$D" --idle-exit 1s --on-conflict rename
expect_rc 0 "conflict: move --on-conflict rename"
for i in 1 2 3; do
    expect_eq "$(cat "$D/d/f$i.txt")" "old $i" "conflict: f$i.txt at DEST kept"
    expect_eq "$(cat "$D/d/f$i.1.txt" 2>&1)" "new $i" "conflict: f$i.txt moved as f$i.1.txt"
done
expect_no_files "$R" "conflict: ROOT keeps no file"

# --- 3. a crash between the link and the unlink ----------------------------------------
topo crash
R=$WORK/crash/root
D=$WORK/crash/dest
mkdir -p "$R/d" "$D/d"
echo "only once" >"$R/d/f.txt"
scanq "$R"
ln "$R/d/f.txt" "$D/d/f.txt" # what the mover had done when it was killed
nfsmove --from "$R" --to "$D" --idle-exit 1s --json
expect_rc 0 "crash: the redelivery"
pycheck "crash: --json summary" jcheck "$WORK/out" moved=0 dead_lettered=0 duplicates=1
expect_no_files "$R" "crash: the source is gone"
expect_eq "$(find "$D" -type f | wc -l)" 1 "crash: one file at DEST"
expect_eq "$(cat "$D/d/f.txt")" "only once" "crash: its bytes"

finish
