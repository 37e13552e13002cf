#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1 and docs/message-format.md):
# a move to another file system (DEST on a tmpfs), and to a full one
# (ENOSPC is transient: requeued until the broker dead-letters it). Needs
# a tmpfs in a private mount namespace; skipped (exit 77) without one.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

need_mount_ns
# --- another file system: DEST on a tmpfs; then a full one --------------------------------
topo xdev
X=$WORK/xdev
R=$X/root
D=$X/dest
mkdir -p "$R/sub" "$D"
"$PY3" "$PY" mktree "$R" 30 4
head -c 3000000 /dev/urandom >"$R/sub/big.bin"
chmod 640 "$R/sub/big.bin"
touch -d @1500000000.987654321 "$R/sub/big.bin"
"$PY3" "$PY" manifest "$R" >"$X/before"
scanq "$R"
# The full case: a 1 MiB tmpfs and a 3 MB file, its own queue.
q_x=$q
ex_x=$ex
topo full
mkdir -p "$X/froot" "$X/fdest"
head -c 3000000 /dev/urandom >"$X/froot/huge.bin"
cp -a "$X/froot" "$X/froot.orig"
scanq "$X/froot"
cat >"$X/inner.sh" <<'EOF'
# In a private mount namespace: tmpfs on DEST and FDEST, run the movers,
# record what they left (the tmpfs goes away with the namespace).
set -u
X=$1 url=$2 MOVE=$3 PY3=$4 PY=$5 q=$6 ex=$7 fq=$8 fex=$9
mount -t tmpfs tmpfs "$X/dest" || exit 90
mount -t tmpfs -o size=1m tmpfs "$X/fdest" || exit 91
[ "$(stat -c %d "$X/dest")" != "$(stat -c %d "$X/root")" ] || exit 92
env AMQP_URL="$url" timeout 90 "$MOVE" --queue "$q" --exchange "$ex" --from "$X/root" \
    --to "$X/dest" --idle-exit 1s --json >"$X/out" 2>"$X/err"
echo $? >"$X/rc"
"$PY3" "$PY" manifest "$X/dest" >"$X/after"
env AMQP_URL="$url" timeout 120 "$MOVE" --queue "$fq" --exchange "$fex" --from "$X/froot" \
    --to "$X/fdest" --idle-exit 2s --json >"$X/fout" 2>"$X/ferr"
echo $? >"$X/frc"
"$PY3" "$PY" manifest "$X/fdest" >"$X/fafter"
EOF
set +e
unshare -m bash "$X/inner.sh" "$X" "$url" "$MOVE" "$PY3" "$PY" "$q_x" "$ex_x" "$q" "$ex"
rc=$?
set -e
expect_rc 0 "another file system: the namespace script"
cp "$X/out" "$WORK/out"
cp "$X/err" "$WORK/err"
rc=$(cat "$X/rc")
expect_rc 0 "another file system"
pycheck "another file system: --json summary" jcheck "$WORK/out" moved=31 dead_lettered=0 \
    requeued=0
checks=$((checks + 1))
cmp -s "$X/before" "$X/after" ||
    fail "another file system: DEST differs: $(diff "$X/before" "$X/after" | head -6 | cut -c1-200)"
expect_no_files "$R" "another file system: the sources are gone"
expect_eq "$(count "$q_x")" 0 "another file system: queue empty"
# Full: ENOSPC is transient: requeued until the quorum queue's delivery
# limit dead-letters it (by the broker, without our headers).
cp "$X/fout" "$WORK/out"
cp "$X/ferr" "$WORK/err"
rc=$(cat "$X/frc")
expect_rc 0 "full file system"
pycheck "full file system: --json summary" jcheck "$WORK/out" moved=0 dead_lettered=0
req=$("$PY3" "$PY" jnum "$WORK/out" requeued)
checks=$((checks + 1))
[ "$req" -ge 1 ] 2>/dev/null || fail "full file system: requeued is $req, expected 1 or more"
expect_summary 0 0 0 0 "$req" "full file system"
expect_eq "$(cat "$X/fafter")" "" "full file system: no partial file left at DEST"
expect_same_tree "$X/froot.orig" "$X/froot" "full file system: the source stays intact"
expect_eq "$(dead "$WORK/dead")" 1 "full file system: the broker dead-lettered the message"
checks=$((checks + 1))
grep -q '"x-scanmove-reason"' "$WORK/dead" &&
    fail "full file system: a transient error was dead-lettered by the mover: $(head -c 400 "$WORK/dead")"
expect_eq "$(count)" 0 "full file system: queue empty"

finish
