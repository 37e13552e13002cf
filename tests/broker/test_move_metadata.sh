#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1, ATTRIBUTES): a move to
# another file system keeps the extended attributes and the ACL of each
# file (DEST on a tmpfs), never scan's in-flight mark nor another
# user.scanmove.* attribute; a destination that refuses them (a ramfs keeps
# none) gives the warning and the count in the --json summary while the
# files still move, and under --strict-metadata a dead letter
# (metadata-not-preserved) with the source intact and no copy left. Each
# DEST is mounted in a private mount namespace for the run; skipped (exit
# 77) where none can be mounted.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

prefix=meta
need_mount_ns
for tool in setfattr setfacl getfacl; do
    command -v "$tool" >/dev/null || skip "$tool is needed (the Debian packages attr and acl)"
done
probe=$WORK/probe
touch "$probe"
setfattr -n user.probe -v 1 "$probe" 2>/dev/null ||
    skip "the file system of $WORK keeps no user xattrs: no source for the attributes"

# The attributes of every file below a directory, one "PATH NAME HEX" line
# each, sorted; the ACL is the attribute system.posix_acl_access.
cat >"$WORK/xattrs.py" <<'PYEOF'
import os, sys
top = sys.argv[1]
out = []
for d, _, fs in os.walk(top):
    for f in fs:
        p = os.path.join(d, f)
        for n in os.listxattr(p, follow_symlinks=False):
            v = os.getxattr(p, n, follow_symlinks=False)
            out.append("%s %s %s" % (os.path.relpath(p, top), n, v.hex()))
print("\n".join(sorted(out)))
PYEOF
xattrs() { "$PY3" "$WORK/xattrs.py" "$1"; }

# Run a command in a private mount namespace with a new file system on a
# directory, and record what that directory holds before it goes away.
cat >"$WORK/ns.sh" <<'EOF'
set -u
fstype=$1 dir=$2 rec=$3 PY3=$4 PY=$5 XATTRS=$6
shift 6
mount -t "$fstype" "$fstype" "$dir" || exit 90
"$@"
rc=$?
"$PY3" "$PY" manifest "$dir" >"$rec.manifest"
"$PY3" "$XATTRS" "$dir" >"$rec.xattrs"
(cd "$dir" && getfacl -R -p . 2>/dev/null) >"$rec.acl"
exit $rc
EOF
# move_on FSTYPE DEST REC ARGS... : move from $R to DEST, a new FSTYPE in a
# private mount namespace, as run does ($rc, out, err); what DEST held
# afterwards is in REC.manifest, REC.xattrs and REC.acl.
move_on() {
    local fstype=$1 dest=$2 rec=$3
    shift 3
    mkdir -p "$dest"
    run unshare -m bash "$WORK/ns.sh" "$fstype" "$dest" "$rec" "$PY3" "$PY" "$WORK/xattrs.py" \
        env AMQP_URL="$url" timeout 90 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" \
        --to "$dest" --idle-exit 1s --json "$@"
}
# without_own FILE : FILE's lines without scan's and the mover's own attributes.
without_own() { grep -v ' user\.scanmove\.' "$1" || true; }

# --- kept: xattrs (several, an empty one, a binary one, a large one) and an ACL --------------
topo kept
R=$WORK/kept/root
D=$WORK/kept/dest
mkdir -p "$R/sub"
echo "tagged" >"$R/sub/tagged.txt"
echo "own marks only" >"$R/sub/hashed.txt"
echo "plain" >"$R/plain.txt"
T=$R/sub/tagged.txt
setfattr -n user.a -v alpha "$T"
setfattr -n user.b -v "beta gamma" "$T"
setfattr -n user.empty "$T"
"$PY3" -c 'import os, sys; os.setxattr(sys.argv[1], "user.bin", bytes(range(256)) * 2)' "$T"
setfacl -m u:nobody:r "$T" 2>/dev/null || setfacl -m u:65534:r "$T"
# Root may set trusted.* (tried like the others).
[ "$(id -u)" != 0 ] || setfattr -n trusted.kept -v root "$T"
# As large as the source's file system allows, up to 4 KiB (set last: ext4 keeps
# all of a file's attributes in one block of 4 KiB).
for n in 4096 3500 3000; do
    "$PY3" -c 'import os, sys; os.setxattr(sys.argv[1], "user.big", os.urandom(int(sys.argv[2])))' \
        "$T" "$n" 2>/dev/null && break
done
# Another file's user.scanmove.* (say a hash from an earlier trip) stays behind.
setfattr -n user.scanmove.hash -v "xxh128:00112233445566778899aabbccddeeff" "$R/sub/hashed.txt"
setfattr -n user.note -v "kept" "$R/sub/hashed.txt"
touch -d @1500000000.25 "$T"
"$PY3" "$PY" manifest "$R" >"$WORK/kept/before"
scanq "$R"
xattrs "$R" >"$WORK/kept/src.xattrs"
checks=$((checks + 1))
grep -q '^sub/tagged.txt user.scanmove.queued ' "$WORK/kept/src.xattrs" ||
    fail "kept: scan left no in-flight mark on the source: $(head -c 400 "$WORK/kept/src.xattrs")"
checks=$((checks + 1))
grep -q '^sub/tagged.txt system.posix_acl_access ' "$WORK/kept/src.xattrs" ||
    fail "kept: the source has no ACL: $(head -c 400 "$WORK/kept/src.xattrs")"
without_own "$WORK/kept/src.xattrs" >"$WORK/kept/want.xattrs"
move_on tmpfs "$D" "$WORK/kept/dest"
expect_rc 0 "kept: move"
pycheck "kept: --json summary" jcheck "$WORK/out" moved=3 dead_lettered=0 metadata_not_preserved=0
expect_not_in err "did not keep" "kept: no warning"
checks=$((checks + 1))
cmp -s "$WORK/kept/before" "$WORK/kept/dest.manifest" ||
    fail "kept: DEST differs: $(diff "$WORK/kept/before" "$WORK/kept/dest.manifest" | head -6)"
checks=$((checks + 1))
cmp -s "$WORK/kept/want.xattrs" "$WORK/kept/dest.xattrs" ||
    fail "kept: the attributes at DEST differ: $(diff "$WORK/kept/want.xattrs" \
        "$WORK/kept/dest.xattrs" | cut -c1-160 | head -8)"
checks=$((checks + 1))
grep -q 'user\.scanmove\.' "$WORK/kept/dest.xattrs" &&
    fail "kept: a user.scanmove.* attribute came along: $(grep 'user\.scanmove\.' \
        "$WORK/kept/dest.xattrs" | cut -c1-160)"
checks=$((checks + 1))
grep -Eq '^user:(nobody|65534):r--' "$WORK/kept/dest.acl" ||
    fail "kept: getfacl at DEST lacks the ACL entry: $(head -c 400 "$WORK/kept/dest.acl")"
expect_no_files "$R" "kept: the sources are gone"

# --- refused: a ramfs keeps no attributes: the files move, with a warning and a count ------
# shellcheck disable=SC2016 # $1 is expanded by the inner sh
unshare -m sh -c 'mount -t ramfs ramfs "$1"' sh "$WORK" 2>/dev/null ||
    skip "cannot mount a ramfs in a private mount namespace: no destination that refuses attributes"
topo refused
R=$WORK/refused/root
mkdir -p "$R"
for f in acl two mark; do echo "file $f" >"$R/$f.txt"; done
setfattr -n user.a -v 1 "$R/acl.txt"
setfacl -m u:nobody:r "$R/acl.txt" 2>/dev/null || setfacl -m u:65534:r "$R/acl.txt"
setfattr -n user.x -v 1 "$R/two.txt"
setfattr -n user.y -v 2 "$R/two.txt"
# mark.txt has only scan's mark, which is never copied: nothing refused.
"$PY3" "$PY" manifest "$R" >"$WORK/refused/before"
scanq "$R"
move_on ramfs "$WORK/refused/dest" "$WORK/refused/dest"
expect_rc 0 "refused: move"
pycheck "refused: --json summary" jcheck "$WORK/out" moved=3 dead_lettered=0 \
    metadata_not_preserved=2
expect_summary 3 0 0 0 0 "refused"
expect_re err '^move: warning: the destination did not keep 2 extended attribute\(s\) or ACL\(s\) of (acl|two)\.txt: (user\.[axy]|system\.posix_acl_access): Operation not supported \(further such files are counted in the summary, and named with -v\)$' \
    "refused: the warning with the first file's reason"
expect_eq "$(grep -c 'did not keep' "$WORK/err")" 1 "refused: one warning for the files, the rest with -v"
expect_re err '^move: warning: 2 files moved without some of their extended attributes or ACLs, which the destination refused$' \
    "refused: the closing warning"
checks=$((checks + 1))
cmp -s "$WORK/refused/before" "$WORK/refused/dest.manifest" ||
    fail "refused: DEST differs: $(diff "$WORK/refused/before" "$WORK/refused/dest.manifest" | head -6)"
expect_eq "$(cat "$WORK/refused/dest.xattrs")" "" "refused: DEST keeps no attributes"
expect_no_files "$R" "refused: the sources are gone"

# --- strict: the same refusal dead-letters the file, which stays, with no copy left ----------
topo strict
R=$WORK/strict/root
mkdir -p "$R"
echo "tagged" >"$R/tagged.txt"
echo "mark only" >"$R/mark.txt"
setfattr -n user.a -v 1 "$R/tagged.txt"
scanq "$R"
cp -a "$R" "$WORK/strict/orig"
xattrs "$R" >"$WORK/strict/src.xattrs"
printf '%s\t%s\n' metadata-not-preserved tagged.txt >"$WORK/expect"
move_on ramfs "$WORK/strict/dest" "$WORK/strict/dest" --strict-metadata
expect_rc 1 "strict: move (1: a file was dead-lettered)"
pycheck "strict: --json summary" jcheck "$WORK/out" moved=1 dead_lettered=1 \
    metadata_not_preserved=0 'dead_by_reason={"metadata-not-preserved":1}'
expect_summary 1 0 0 1 0 "strict"
expect_re err 'user\.a was not kept on the copy: Operation not supported' \
    "strict: the error names the attribute and why"
expect_eq "$(dead "$WORK/dead")" 1 "strict: one dead letter"
pycheck "strict: dead-lettered as metadata-not-preserved" checkdead "$WORK/dead" "$WORK/expect" \
    "$ex.dlx" "$q"
pycheck "strict: the source stays as it was" same "$WORK/strict/orig/tagged.txt" "$R/tagged.txt"
expect_eq "$(xattrs "$R" | grep -v ' user\.scanmove\.queued ')" \
    "$(grep '^tagged.txt' "$WORK/strict/src.xattrs" | grep -v ' user\.scanmove\.queued ')" \
    "strict: the source keeps its attributes"
expect_eq "$(cut -f1 "$WORK/strict/dest.manifest")" "b'mark.txt'" \
    "strict: only the file without attributes at DEST, no copy or temporary left"

finish
