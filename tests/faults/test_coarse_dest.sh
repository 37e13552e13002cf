#!/usr/bin/env bash
# Field: a destination filesystem that stores coarser timestamps than the
# source (issue 9, defect 1; and the keepalive during long flushes).
#
# DEST is an ext4 image with 128-byte inodes on a loop device: it stores
# modification times in whole seconds (so do ext3, FAT with 2 s, exFAT with
# 10 ms, NTFS over SMB with 100 ns), and futimens() truncates the copy's
# nanoseconds silently. ROOT is another filesystem, so every move is a copy.
# The mover must still recognise its own finished copies:
#   1. every file scanned twice: the second message of each is a duplicate,
#      none is dead-lettered "vanished";
#   2. a mover killed between linking its copy and removing the source (at
#      the rename of the source to its private name): the next mover
#      finishes that move, with no second copy "name.1.ext";
#   3. a crash after the source was renamed to .scanmove-ID.del and before
#      its unlink (the state made by hand): the next mover removes it;
#   4. every fsync slowed down to 6 s (strace) with a 2 s heartbeat: the
#      mover keeps its connection (heartbeats while it waits), so it does
#      not lose the broker nor get the message back;
#   5. the same for the byte-for-byte comparison of a leftover copy (part
#      2 with a 4 MiB file, every read slowed to 40 ms, a 1 s heartbeat).
# Each part ends with the audit, which accepts mtimes truncated to 1 s at
# DEST (--mtime-granularity). Skipped (exit 77) where no loop device can be
# mounted or strace is missing.
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
AUDIT=$TESTS_DIR/audit.sh
umask 022

. "$TESTS_DIR/faults/faults.sh"
PY=$TESTS_DIR/move_util.py # for pycheck and jnum
q=faults-coarse-$tag
ex=faults-coarse-ex-$tag
declared+=("$q")
D=$WORK/dest
C=$WORK/canary
mkdir -p "$D" "$C"
echo "outside the roots" >"$C/keep.txt"
"$AUDIT" snapshot "$C" >"$WORK/canary.manifest"

skip() {
    echo "SKIP: $*" >&2
    exit 77
}
command -v strace >/dev/null || skip "strace is not installed"
command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 is not installed"
truncate -s 64M "$WORK/dest.img"
mkfs.ext4 -q -F -I 128 "$WORK/dest.img" >/dev/null 2>&1 || skip "mkfs.ext4 -I 128 failed"
mount -o loop "$WORK/dest.img" "$D" 2>/dev/null || skip "cannot mount a loop device here"
extra_cleanup='umount -l "$D"'
touch -d '2026-01-02 03:04:05.123456789' "$D/probe"
[ "$(stat -c %y "$D/probe")" = "2026-01-02 03:04:05.000000000 +0000" ] ||
    [ "$(stat -c %Y "$D/probe")" = "$(date -d '2026-01-02 03:04:05' +%s)" ] ||
    skip "the loop filesystem keeps sub-second times: $(stat -c %y "$D/probe")"
rm "$D/probe"

# mk DIR N : N files with sub-second modification times below DIR.
mk() {
    local i
    mkdir -p "$1/a" "$1/b"
    for i in $(seq 1 "$2"); do
        printf 'file %s of %s\n' "$i" "$1" >"$1/a/f$i.txt"
        head -c $((i * 1000)) /dev/urandom >"$1/b/g$i.bin"
        touch -d "2026-01-02 03:04:05.$((100000000 + i * 7919))" "$1/a/f$i.txt" "$1/b/g$i.bin"
    done
}

# audit PART ROOT DEST : the audit of a part, with 1 s times at DEST.
audit() {
    run "$AUDIT" check --url "$url" --queue "$q" --root "$2" --dest "$3" \
        --manifest "$WORK/$1.manifest" --outside "$C=$WORK/canary.manifest" \
        --mtime-granularity 1000000000
    expect_rc 0 "$1: the audit passes"
    [ "$rc" = 0 ] || cat "$WORK/out" "$WORK/err" >&2
}

move() { env AMQP_URL="$url" timeout 120 "$MOVE" --queue "$q" --exchange "$ex" "$@"; }

# kill_after_link PART ROOT DEST FILE : a mover killed between linking its
# copy of ROOT's only message and removing the source. The first renameat2
# is the same-filesystem attempt (EXDEV); the second renames the copied
# source to its private name: killed there, the copy is linked at DEST and
# the source still in place (FILE, relative, at both).
kill_after_link() {
    run timeout 120 strace -f -o /dev/null -e trace=renameat2 \
        -e inject=renameat2:error=EIO:signal=KILL:when=2 \
        env "$NO_LSAN" AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --from "$2" --to "$3" \
        --idle-exit 2s
    checks=$((checks + 1))
    [ -f "$3/$4" ] && [ -f "$2/$4" ] ||
        fail "$1: the killed mover should leave the file at both places (rc $rc): $(ls -R "$3" "$2")"
}
scan() { env AMQP_URL="$url" timeout 60 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q "$@"; }

# ---- 1. duplicates are recognised ------------------------------------------
R1=$WORK/r1
mk "$R1" 20
"$AUDIT" snapshot "$R1" >"$WORK/dups.manifest"
run scan "$R1"
expect_rc 0 "dups: first scan"
run scan --requeue-after 0 "$R1" # published again, marks notwithstanding
expect_rc 0 "dups: second scan"
mkdir "$D/1"
run move --from "$R1" --to "$D/1" --idle-exit 2s --json
expect_rc 0 "dups: the mover"
pycheck "dups: 40 moved, 40 duplicates, nothing dead-lettered" jcheck "$WORK/out" moved=40 \
    duplicates=40 dead_lettered=0
audit dups "$R1" "$D/1"

# ---- 2. killed between the link and the source's removal -------------------
R2=$WORK/r2
mkdir -p "$R2/c"
echo "one file" >"$R2/c/one.txt"
touch -d '2026-01-02 03:04:05.987654321' "$R2/c/one.txt"
"$AUDIT" snapshot "$R2" >"$WORK/kill.manifest"
run scan "$R2"
expect_rc 0 "kill: scan"
mkdir "$D/2"
kill_after_link kill "$R2" "$D/2" c/one.txt
run move --from "$R2" --to "$D/2" --idle-exit 2s --json
expect_rc 0 "kill: the next mover"
pycheck "kill: the move is finished as a duplicate" jcheck "$WORK/out" moved=0 duplicates=1 \
    dead_lettered=0
checks=$((checks + 1))
[ ! -e "$D/2/c/one.1.txt" ] || fail "kill: a second copy one.1.txt at DEST"
audit kill "$R2" "$D/2"

# ---- 3. a crash left the source under its private name ---------------------
R3=$WORK/r3
mkdir -p "$R3/d"
echo "two" >"$R3/d/two.txt"
touch -d '2026-01-02 03:04:05.555555555' "$R3/d/two.txt"
"$AUDIT" snapshot "$R3" >"$WORK/del.manifest"
id=$(env AMQP_URL="$url" "$SCAN" --dry-run --no-mime -q "$R3" |
    "$PY3" -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
run scan "$R3"
expect_rc 0 "del: scan"
# What a mover leaves when it dies in remove_source, between the rename of
# the copied source to its private name and its unlink.
mkdir -p "$D/3/d"
cp -p "$R3/d/two.txt" "$D/3/d/two.txt"
mv "$R3/d/two.txt" "$R3/d/.scanmove-$id.del"
run move --from "$R3" --to "$D/3" --idle-exit 2s --json
expect_rc 0 "del: the next mover"
pycheck "del: recognised as done" jcheck "$WORK/out" moved=0 duplicates=1 dead_lettered=0
checks=$((checks + 1))
[ ! -e "$R3/d/.scanmove-$id.del" ] || fail "del: the source is left as .scanmove-$id.del"
audit del "$R3" "$D/3"

# ---- 4. slow flushes and a short heartbeat ----------------------------------
R4=$WORK/r4
mkdir -p "$R4"
head -c 300000 /dev/urandom >"$R4/slow.bin"
"$AUDIT" snapshot "$R4" >"$WORK/slow.manifest"
run scan "$R4"
expect_rc 0 "slow: scan"
mkdir "$D/4"
run timeout 120 strace -f -o /dev/null -e trace=fsync -e inject=fsync:delay_enter=6000000 \
    env "$NO_LSAN" AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --heartbeat 2s --from "$R4" \
    --to "$D/4" --idle-exit 2s --json
expect_rc 0 "slow: the mover"
pycheck "slow: moved once, not redelivered" jcheck "$WORK/out" moved=1 duplicates=0 \
    dead_lettered=0 requeued=0
expect_not_in err "lost the connection" "slow: the connection survives the slow flushes"
expect_not_in err "reconnect" "slow: no reconnection"
audit slow "$R4" "$D/4"

# ---- 5. a slow comparison of a leftover copy ---------------------------------
# As in part 2, a mover killed between linking its copy and removing the
# source, here of a 4 MiB file; the next mover compares the leftover copy
# with the source byte for byte, with every read slowed to 40 ms (128
# reads: 5 s) and a 1 s heartbeat. It must keep its connection meanwhile.
R5=$WORK/r5
mkdir -p "$R5"
head -c 4194304 /dev/urandom >"$R5/big.bin"
"$AUDIT" snapshot "$R5" >"$WORK/compare.manifest"
run scan "$R5"
expect_rc 0 "compare: scan"
mkdir "$D/5"
kill_after_link compare "$R5" "$D/5" big.bin
run timeout 120 strace -f -o /dev/null -e trace=pread64 -e inject=pread64:delay_enter=40000 \
    env "$NO_LSAN" AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --heartbeat 1s --from "$R5" \
    --to "$D/5" --idle-exit 2s --json
expect_rc 0 "compare: the next mover"
pycheck "compare: the move is finished as a duplicate" jcheck "$WORK/out" moved=0 duplicates=1 \
    dead_lettered=0 requeued=0
expect_not_in err "lost the connection" "compare: the connection survives the slow comparison"
expect_not_in err "reconnect" "compare: no reconnection"
audit compare "$R5" "$D/5"

finish
