#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1 CHECKSUMS and
# docs/message-format.md "hash"): scan --checksum puts the content's hash in
# each message (sha256 checked with python's hashlib, xxh128 with xxhsum -H2
# when the xxhash package is there); a file rewritten in place after the
# scan, its size and mtime restored (touch -d), is caught by move --verify
# on one file system and by a copy to another (DEST on a tmpfs):
# dead-lettered checksum-mismatch, the source intact with its new content,
# nothing at DEST; a copy damaged on its way (tests/fixtures/faulty_io.c, an
# LD_PRELOAD shim flipping a byte of the copy's 2nd write) is caught, the
# source intact, no partial copy; --hash-xattr stores user.scanmove.hash (a
# refusal is counted, or under --strict-metadata dead-lettered
# metadata-not-preserved); a hash of an unknown algorithm moves unverified
# with one warning. Needs a tmpfs in a private mount namespace; skipped
# (exit 77) without one.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

need_mount_ns
command -v getfattr >/dev/null || skip "no getfattr (Debian package attr)"
SHIM=${BUILD_DIR:-$(dirname "$MOVE")/..}/tests/libfaulty_io.so
[ -f "$SHIM" ] || skip "no $SHIM (built by tests/CMakeLists.txt)"
# A sanitizer build wants its runtime first: let it be second.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

# mk_tree DIR : five files, one of them empty, one below a directory.
mk_tree() {
    mkdir -p "$1/sub"
    printf 'alpha\n' >"$1/a.txt"
    head -c 200000 /dev/urandom >"$1/b.bin"
    head -c 100000 /dev/urandom >"$1/c.bin"
    : >"$1/empty"
    printf 'delta\n' >"$1/sub/d.txt"
}

# rewrite FILE : eight bytes in the middle rewritten in place (same inode,
# same size), and the mtime put back with touch -d: only the content tells.
rewrite() {
    local before after
    before=$(stat -c '%i %s %.9Y' "$1")
    printf 'REWRITE!' | dd of="$1" bs=1 seek=5000 conv=notrunc status=none
    touch -d "@${before##* }" "$1"
    after=$(stat -c '%i %s %.9Y' "$1")
    expect_eq "$after" "$before" "rewrite $(basename "$1"): same inode, size and mtime"
}

# check_hashes FILE ALG : every message peeked into FILE has the hash ALG
# of its file's content.
check_hashes() {
    checks=$((checks + 1))
    local why
    why=$("$PY3" - "$1" "$2" <<'EOF'
import base64, hashlib, json, os, shutil, subprocess, sys
n = 0
for line in open(sys.argv[1]):
    m = json.loads(base64.b64decode(json.loads(line)["body_b64"]))
    data = open(os.path.join(m["root"], m["path"]), "rb").read()
    if sys.argv[2] == "sha256":
        want = "sha256:" + hashlib.sha256(data).hexdigest()
    elif shutil.which("xxhsum"):
        out = subprocess.run(["xxhsum", "-H2", "-"], input=data, capture_output=True, check=True)
        want = "xxh128:" + out.stdout.split()[0].decode()
    else:
        want = m.get("hash", "")
        if len(want) != 39 or not want.startswith("xxh128:"):
            want = "xxh128:<32 hex digits>"
    if m.get("hash") != want:
        print("%s: hash %r, expected %r" % (m["path"], m.get("hash"), want))
    n += 1
if n == 0:
    print("no messages")
EOF
    )
    [ -z "$why" ] || fail "scan --checksum=$2: $why"
}

# xattr FILE : its user.scanmove.hash, or "none".
xattr() { getfattr --only-values -n user.scanmove.hash "$1" 2>/dev/null || echo none; }

# --- one file system: --verify --hash-xattr (sha256) ------------------------------------------
topo same
R1=$WORK/same/root
D1=$WORK/same/dest
mkdir -p "$D1"
mk_tree "$R1"
scanq --checksum=sha256 "$R1"
"$PY3" "$AMQP" peek "$url" "$q" 100 "$WORK/peek1" >/dev/null
check_hashes "$WORK/peek1" sha256
rewrite "$R1/c.bin"
cp -a "$R1" "$WORK/same/orig"
moveq --from "$R1" --to "$D1" --verify --hash-xattr --idle-exit 1s --json
expect_rc 1 "--verify (1: one was dead-lettered)"
pycheck "--verify: --json summary" jcheck "$WORK/out" moved=4 dead_lettered=1 verified=4 \
    metadata_not_preserved=0 'dead_by_reason={"checksum-mismatch":1}'
printf 'checksum-mismatch\tc.bin\n' >"$WORK/expect"
expect_eq "$(dead "$WORK/dead")" 1 "--verify: one dead letter"
pycheck "--verify: the rewritten file dead-lettered checksum-mismatch" checkdead "$WORK/dead" \
    "$WORK/expect" "$ex.dlx" "$q"
checks=$((checks + 1))
grep -q 'hashes to sha256:[0-9a-f]\{64\}, not to the scan.s sha256:[0-9a-f]\{64\}' "$WORK/dead" ||
    fail "--verify: the dead letter's sentence names both hashes: $(head -c 600 "$WORK/dead")"
pycheck "--verify: the source stays, with its new content" same "$WORK/same/orig/c.bin" "$R1/c.bin"
expect_files "$R1" "--verify: only the rewritten file stays" "'c.bin'"
expect_files "$D1" "--verify: nothing of it at DEST" "'a.txt'" "'b.bin'" "'empty'" "'sub/d.txt'"
for f in a.txt b.bin empty sub/d.txt; do
    expect_eq "$(xattr "$D1/$f")" "sha256:$(sha256sum <"$D1/$f" | cut -d' ' -f1)" \
        "--hash-xattr: user.scanmove.hash of $f after a rename"
done

# --- one file system: a refused attribute after a rename is counted ----------------------------
topo refused
R4=$WORK/refused/root
D4=$WORK/refused/dest
mkdir -p "$R4" "$D4"
printf 'one\n' >"$R4/one.txt"
printf 'two\n' >"$R4/two.txt"
scanq --checksum "$R4"
run env LD_PRELOAD="$SHIM" SCANMOVE_TEST_XATTR_ERRNO=95 AMQP_URL="$url" timeout 90 "$MOVE" \
    --queue "$q" --exchange "$ex" --from "$R4" --to "$D4" --hash-xattr --idle-exit 1s --json
expect_rc 0 "refused attribute after a rename"
pycheck "refused attribute: --json summary" jcheck "$WORK/out" moved=2 dead_lettered=0 verified=2 \
    metadata_not_preserved=2
expect_in err "user.scanmove.hash: Operation not supported" "refused attribute: the warning says why"
expect_files "$D4" "refused attribute: moved all the same" "'one.txt'" "'two.txt'"

# --- an algorithm this mover does not know: moved unverified, one warning ----------------------
topo unknown
R5=$WORK/unknown/root
D5=$WORK/unknown/dest
mkdir -p "$R5" "$D5"
for f in u1 u2 u3; do printf '%s\n' "$f" >"$R5/$f"; done
for f in u1 u2; do "$PY3" "$PY" msg "$WORK/$f.json" "$R5" "$f" "$R5/$f" 'hash="blake3:00ff"'; done
"$PY3" "$PY" msg "$WORK/u3.json" "$R5" u3 "$R5/u3"
checks=$((checks + 1))
grep -q '"hash":"blake3:00ff"' "$WORK/u1.json" || fail "the crafted message has no hash: $(cat "$WORK/u1.json")"
publish "$WORK/u1.json" "$WORK/u2.json" "$WORK/u3.json"
moveq --from "$R5" --to "$D5" --verify --idle-exit 1s --json
expect_rc 0 "unknown algorithm"
pycheck "unknown algorithm: --json summary" jcheck "$WORK/out" moved=3 dead_lettered=0 verified=0
expect_eq "$(grep -c "hashes of 'blake3', an algorithm this mover does not know" "$WORK/err")" 1 \
    "unknown algorithm: said once"
expect_files "$D5" "unknown algorithm: moved" "'u1'" "'u2'" "'u3'"

# --- another file system (DEST on a tmpfs) -----------------------------------------------------
# A rewritten file, copied with --hash-xattr (xxh128, the default).
topo xdev
qx=$q exx=$ex
R2=$WORK/xdev/root
D2=$WORK/xdev/dest
mkdir -p "$D2"
mk_tree "$R2"
scanq --checksum "$R2"
"$PY3" "$AMQP" peek "$url" "$q" 100 "$WORK/peek2" >/dev/null
check_hashes "$WORK/peek2" xxh128
rewrite "$R2/c.bin"
cp -a "$R2" "$WORK/xdev/orig"
# A copy damaged on its way (the shim flips a byte of its 2nd write).
topo shim
qd=$q exd=$ex
R3=$WORK/shim/root
D3=$WORK/shim/dest
mkdir -p "$R3" "$D3"
head -c 3000000 /dev/urandom >"$R3/big.bin"
scanq --checksum "$R3"
cp -a "$R3" "$WORK/shim/orig"
# The same shim, without a hash in the message: the damage goes unseen.
topo blind
qb=$q exb=$ex
R6=$WORK/blind/root
D6=$WORK/blind/dest
mkdir -p "$R6" "$D6"
cp -a "$R3/big.bin" "$R6/big.bin"
scanq "$R6"
# A refused attribute on a copy under --strict-metadata: dead-lettered.
topo strict
qm=$q exm=$ex
R7=$WORK/strict/root
D7=$WORK/strict/dest
mkdir -p "$R7" "$D7"
printf 'seven\n' >"$R7/seven.txt"
scanq --checksum "$R7"
cp -a "$R7" "$WORK/strict/orig"

cat >"$WORK/inner.sh" <<'EOF'
# In a private mount namespace: a tmpfs on each DEST, the movers, and what
# they left (the tmpfs goes away with the namespace).
set -u
W=$1 url=$2 MOVE=$3 SHIM=$4
for d in xdev shim blind strict; do
    mount -t tmpfs tmpfs "$W/$d/dest" || exit 90
done
[ "$(stat -c %d "$W/xdev/dest")" != "$(stat -c %d "$W/xdev/root")" ] || exit 92
# mv NAME QUEUE EXCHANGE [ENV...] -- ARGS... : a mover's run, kept as NAME.*
mv_run() {
    local name=$1 q=$2 ex=$3 envs=()
    shift 3
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    env "${envs[@]}" AMQP_URL="$url" timeout 90 "$MOVE" --queue "$q" --exchange "$ex" \
        --from "$W/$name/root" --to "$W/$name/dest" --idle-exit 1s --json "$@" \
        >"$W/$name.out" 2>"$W/$name.err"
    echo $? >"$W/$name.rc"
    (cd "$W/$name/dest" && find . -mindepth 1 | sort) >"$W/$name.left"
}
mv_run xdev "$QX" "$EXX" -- --hash-xattr
for f in a.txt b.bin empty sub/d.txt; do
    printf '%s %s\n' "$f" "$(getfattr --only-values -n user.scanmove.hash "$W/xdev/dest/$f" 2>/dev/null)"
done >"$W/xdev.xattrs"
mv_run shim "$QD" "$EXD" LD_PRELOAD="$SHIM" SCANMOVE_TEST_CORRUPT_DIR="$W/shim/dest" --
mv_run blind "$QB" "$EXB" LD_PRELOAD="$SHIM" SCANMOVE_TEST_CORRUPT_DIR="$W/blind/dest" --
cmp -s "$W/blind/dest/big.bin" "$W/shim/orig/big.bin"
echo $? >"$W/blind.cmp"
mv_run strict "$QM" "$EXM" LD_PRELOAD="$SHIM" SCANMOVE_TEST_XATTR_ERRNO=95 -- --hash-xattr \
    --strict-metadata
EOF
set +e
env QX="$qx" EXX="$exx" QD="$qd" EXD="$exd" QB="$qb" EXB="$exb" QM="$qm" EXM="$exm" \
    unshare -m bash "$WORK/inner.sh" "$WORK" "$url" "$MOVE" "$SHIM"
rc=$?
set -e
expect_rc 0 "another file system: the namespace script"

# mover NAME : the run of mover NAME as the last run.
mover() {
    cp "$WORK/$1.out" "$WORK/out"
    cp "$WORK/$1.err" "$WORK/err"
    rc=$(cat "$WORK/$1.rc")
}

# The rewritten file, on a copy.
mover xdev
q=$qx ex=$exx
expect_rc 1 "copy of a rewritten file (1: one was dead-lettered)"
pycheck "copy: --json summary" jcheck "$WORK/out" moved=4 dead_lettered=1 verified=4 \
    'dead_by_reason={"checksum-mismatch":1}'
printf 'checksum-mismatch\tc.bin\n' >"$WORK/expect"
expect_eq "$(dead "$WORK/dead")" 1 "copy: one dead letter"
pycheck "copy: the rewritten file dead-lettered checksum-mismatch" checkdead "$WORK/dead" \
    "$WORK/expect" "$ex.dlx" "$q"
checks=$((checks + 1))
grep -q 'hashes to xxh128:[0-9a-f]\{32\}, not to the scan.s xxh128:[0-9a-f]\{32\}: it was rewritten' \
    "$WORK/dead" || fail "copy: the dead letter's sentence: $(head -c 600 "$WORK/dead")"
pycheck "copy: the source stays, with its new content" same "$WORK/xdev/orig/c.bin" "$R2/c.bin"
expect_files "$R2" "copy: only the rewritten file stays" "'c.bin'"
expect_eq "$(tr '\n' ' ' <"$WORK/xdev.left")" "./a.txt ./b.bin ./empty ./sub ./sub/d.txt " \
    "copy: nothing of it at DEST, no temporary"
checks=$((checks + 1))
"$PY3" - "$WORK/xdev.xattrs" "$WORK/peek2" <<'EOF' || fail "copy: --hash-xattr: $(cat "$WORK/xdev.xattrs")"
import base64, json, sys
want = {}
for line in open(sys.argv[2]):
    m = json.loads(base64.b64decode(json.loads(line)["body_b64"]))
    want[m["path"]] = m["hash"]
for line in open(sys.argv[1]):
    path, got = line.split()
    if got != want[path]:
        sys.exit("%s: %s, expected %s" % (path, got, want[path]))
EOF

# The damaged copy.
mover shim
q=$qd ex=$exd
expect_rc 1 "damaged copy (1: dead-lettered)"
pycheck "damaged copy: --json summary" jcheck "$WORK/out" moved=0 dead_lettered=1 \
    'dead_by_reason={"checksum-mismatch":1}'
printf 'checksum-mismatch\tbig.bin\n' >"$WORK/expect"
expect_eq "$(dead "$WORK/dead")" 1 "damaged copy: one dead letter"
pycheck "damaged copy: dead-lettered checksum-mismatch" checkdead "$WORK/dead" "$WORK/expect" \
    "$ex.dlx" "$q"
checks=$((checks + 1))
grep -q 'the copy hashes to xxh128:[0-9a-f]\{32\}, not to the source.s xxh128:[0-9a-f]\{32\}: it was damaged' \
    "$WORK/dead" || fail "damaged copy: the dead letter's sentence: $(head -c 600 "$WORK/dead")"
expect_same_tree "$WORK/shim/orig" "$R3" "damaged copy: the source stays intact"
expect_eq "$(cat "$WORK/shim.left")" "" "damaged copy: nothing at DEST, no partial copy"
# Without a hash, the shim's damage reaches DEST: it does damage.
mover blind
expect_rc 0 "damaged copy without a hash"
expect_eq "$(cat "$WORK/blind.cmp")" 1 "without a hash, the damaged copy is moved (the shim works)"

# A refused attribute on a copy, --strict-metadata.
mover strict
q=$qm ex=$exm
expect_rc 1 "refused attribute on a copy, strict (1: dead-lettered)"
pycheck "strict: --json summary" jcheck "$WORK/out" moved=0 dead_lettered=1 \
    'dead_by_reason={"metadata-not-preserved":1}'
expect_eq "$(dead "$WORK/dead")" 1 "strict: one dead letter"
printf 'metadata-not-preserved\tseven.txt\n' >"$WORK/expect"
pycheck "strict: dead-lettered metadata-not-preserved" checkdead "$WORK/dead" "$WORK/expect" \
    "$ex.dlx" "$q"
expect_same_tree "$WORK/strict/orig" "$R7" "strict: the source stays intact"
expect_eq "$(cat "$WORK/strict.left")" "" "strict: nothing at DEST"

finish
