#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1, LAYOUTS): move --layout
# places each file at DEST/<expanded template>, computed from its message.
# A corpus with known types and mtimes lands where an independent expansion
# (the Python below, with file(1) for the types) says, on one file system
# and on another (DEST on a tmpfs, in a private mount namespace; those
# parts are skipped without one), in local time and in UTC; movers killed
# mid-run leave every file exactly once at its place; conflicts and their
# redeliveries work on the expanded name; a template that could leave DEST
# or names an unknown placeholder is refused at start (64, nothing
# consumed); an expansion with an empty or ".." component, from the path
# or from hostile message values, is dead-lettered as bad-layout, its
# source untouched; --requeue-dead --layout finds a file at its place.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

prefix=layout
command -v file >/dev/null || skip "no file(1) to tell the types scan finds"
XDEV=1
# shellcheck disable=SC2016 # $1 is expanded by the inner sh
unshare -m sh -c 'mount -t tmpfs tmpfs "$1"' sh "$WORK" 2>/dev/null || XDEV=0

# The expected place of every file, expanded independently of layout.c.
cat >"$WORK/oracle.py" <<'EOF'
"""oracle.py ROOT WANT TEMPLATE: copy every file of ROOT (bytes, mode,
mtime) to WANT/<TEMPLATE expanded for it>, as move(1) LAYOUTS says; the
time zone is $TZ. The type is file(1)'s, which uses scan's libmagic."""
import os, re, shutil, socket, subprocess, sys, time
root, want, tmpl = sys.argv[1:4]
time.tzset()
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        path = os.path.relpath(p, root)
        name = os.path.basename(path)
        dot = name.rfind(".")
        ext = name[dot + 1:] if 0 < dot < len(name) - 1 else ""
        stem = name[:dot] if ext else name
        mime = ""
        if "{mime" in tmpl:
            with open(p, "rb") as f:
                mime = subprocess.run(["file", "-b", "--mime-type", "-"], stdin=f,
                                      capture_output=True, text=True, check=True).stdout.strip()
        mt = os.lstat(p).st_mtime_ns // 10**9
        vals = {"path": path, "dir": os.path.dirname(path), "name": name, "stem": stem,
                "ext": ext, "mime": mime, "mime_type": mime.split("/")[0],
                "mime_subtype": mime.partition("/")[2], "size": str(os.lstat(p).st_size),
                "root_name": os.path.basename(os.path.realpath(root)),
                "host": socket.gethostname()}

        def one(m):
            if m.group(0) in ("{{", "}}"):
                return m.group(0)[0]
            key, _, fmt = m.group(1).partition(":")
            if key == "mtime":
                return time.strftime(fmt, time.localtime(mt))
            if key == "mtime_utc":
                return time.strftime(fmt, time.gmtime(mt))
            return vals[key]
        rel = re.sub(r"\{\{|\}\}|\{([^{}]*)\}", one, tmpl)
        assert all(c not in ("", ".", "..") for c in rel.split("/")), rel
        dst = os.path.join(want, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(p, dst)
EOF
# want ROOT WANT TEMPLATE [TZ] : the oracle's tree for ROOT.
want() { TZ=${4:-UTC} "$PY3" "$WORK/oracle.py" "$1" "$2" "$3" || fail "the oracle failed for $3"; }

# in_ns DEST SCRIPT ARGS... : run SCRIPT with bash, with a tmpfs on DEST
# (another file system) in a private mount namespace; the tmpfs goes with it.
in_ns() {
    local dest=$1
    shift
    # shellcheck disable=SC2016 # for the inner bash
    unshare -m bash -c 'mount -t tmpfs tmpfs "$1" || exit 90; shift; bash "$@"' sh "$dest" "$@"
}

# --- types and UTC months, one file system ------------------------------------------------
topo types
R=$WORK/types/root
D=$WORK/types/dest
mkdir -p "$R/a/b" "$R/c" "$D"
printf 'plain text notes\n' >"$R/a/notes.txt"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\x08\x06\0\0\0\x1f\x15\xc4\x89' >"$R/a/b/pic.png"
head -c 4096 /dev/urandom >"$R/c/data.bin"
printf 'gzip me\n' | gzip -c >"$R/top.gz"
printf '#!/bin/sh\necho hi\n' >"$R/c/run.sh"
: >"$R/c/empty.dat"
touch -d '2024-02-10 10:00:00 UTC' "$R/a/notes.txt"
touch -d '2023-12-31 23:30:00.25 UTC' "$R/a/b/pic.png"
touch -d '1999-07-01 00:00:00 UTC' "$R/c/data.bin"
touch -d '2026-01-01 00:00:00 UTC' "$R/top.gz"
touch -d '1960-05-05 12:00:00 UTC' "$R/c/run.sh"
touch -d '2024-02-29 23:59:59 UTC' "$R/c/empty.dat"
L1='{mime_type}/{mtime_utc:%Y/%m}/{name}'
want "$R" "$WORK/types/want" "$L1"
run env AMQP_URL="$url" timeout 120 "$SCAN" --queue "$q" --exchange "$ex" -q "$R"
expect_rc 0 "types: scan (with types)"
moveq --from "$R" --to "$D" --layout "$L1" --idle-exit 1s --json
expect_rc 0 "types: move --layout '$L1'"
pycheck "types: --json summary" jcheck "$WORK/out" moved=6 dead_lettered=0 duplicates=0
expect_same_tree "$WORK/types/want" "$D" "types: every file at its type and UTC month"
expect_no_files "$R" "types: the sources are gone"
expect_eq "$(count) $(count "$q.dead")" "0 0" "types: queues empty"

# --- the root's name, the extension, local time; another file system ---------------------
L2='{root_name}/{ext}/{mtime:%Y-%m-%d}/{path}'
if [ "$XDEV" = 1 ]; then
    topo xdev
    X=$WORK/xdev
    R=$X/incoming
    mkdir -p "$R/s1/s2" "$R/t" "$X/dest"
    for i in $(seq 1 20); do
        printf 'file %s\n' "$i" >"$R/s1/f$i.txt"
        printf 'log %s\n' "$i" >"$R/t/l$i.log"
        # 20:00 UTC on new year's eve is 05:00 on new year's day in UTC+9
        touch -d "2023-12-31 20:00:$i UTC" "$R/s1/f$i.txt"
        touch -d "2024-06-$((i + 1)) 12:00:00 UTC" "$R/t/l$i.log"
    done
    head -c 3000000 /dev/urandom >"$R/s1/s2/big.bin"
    chmod 640 "$R/s1/s2/big.bin"
    touch -d @1500000000.987654321 "$R/s1/s2/big.bin"
    want "$R" "$X/want" "$L2" JST-9
    "$PY3" "$PY" manifest "$X/want" >"$X/want.manifest"
    scanq "$R"
    cat >"$X/run.sh" <<'EOF'
set -u
X=$1 url=$2 MOVE=$3 PY3=$4 PY=$5 q=$6 ex=$7 L=$8
[ "$(stat -c %d "$X/dest")" != "$(stat -c %d "$X/incoming")" ] || exit 92
env TZ=JST-9 AMQP_URL="$url" timeout 90 "$MOVE" --queue "$q" --exchange "$ex" \
    --from "$X/incoming" --to "$X/dest" --layout "$L" --idle-exit 1s --json >"$X/out" 2>"$X/err"
echo $? >"$X/rc"
"$PY3" "$PY" manifest "$X/dest" >"$X/after"
EOF
    set +e
    in_ns "$X/dest" "$X/run.sh" "$X" "$url" "$MOVE" "$PY3" "$PY" "$q" "$ex" "$L2"
    rc=$?
    set -e
    expect_rc 0 "xdev: the namespace script"
    cp "$X/out" "$WORK/out"
    rc=$(cat "$X/rc")
    expect_rc 0 "xdev: move --layout '$L2' with TZ=JST-9"
    pycheck "xdev: --json summary" jcheck "$WORK/out" moved=41 dead_lettered=0
    checks=$((checks + 1))
    cmp -s "$X/want.manifest" "$X/after" ||
        fail "xdev: DEST differs: $(diff "$X/want.manifest" "$X/after" | head -6 | cut -c1-200)"
    checks=$((checks + 1))
    grep -qF "incoming/txt/2024-01-01/s1/f1.txt'" "$X/after" ||
        fail "xdev: {mtime:...} is not in the mover's time zone: $(head -3 "$X/after")"
    expect_no_files "$R" "xdev: the sources are gone"
    expect_eq "$(count) $(count "$q.dead")" "0 0" "xdev: queues empty"
fi

# --- movers killed mid-run: every file once, at its place ---------------------------------
# kills.sh WORKDIR MODE ... : movers started and killed (SIGKILL) once they
# have placed another 120 files, five times, then one left to finish.
cat >"$WORK/kills.sh" <<'EOF'
set -u
K=$1 url=$2 MOVE=$3 PY3=$4 PY=$5 q=$6 ex=$7 L=$8
nfiles() { find "$K/dest" -type f -printf x | wc -c; }
for round in 1 2 3 4 5; do
    env AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --from "$K/root" --to "$K/dest" \
        --layout "$L" --prefetch 16 --idle-exit 2s -q 2>>"$K/killed.err" &
    pid=$!
    for _ in $(seq 400); do
        [ "$(nfiles)" -ge $((round * 120)) ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
done
env AMQP_URL="$url" timeout 90 "$MOVE" --queue "$q" --exchange "$ex" --from "$K/root" \
    --to "$K/dest" --layout "$L" --idle-exit 2s --json >"$K/out" 2>"$K/err"
echo $? >"$K/rc"
"$PY3" "$PY" manifest "$K/dest" >"$K/after"
EOF
L3='{ext}/{mtime_utc:%Y/%m}/{dir}/{stem}.{ext}'
for mode in same xdev; do
    [ "$mode" = same ] || [ "$XDEV" = 1 ] || continue
    topo "kills-$mode"
    K=$WORK/kills-$mode
    mkdir -p "$K/root" "$K/dest"
    "$PY3" - "$K/root" <<'EOF'
import os, sys
for i in range(1000):
    d = os.path.join(sys.argv[1], "d%02d" % (i % 20))
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "f%04d.%s" % (i, ("dat", "txt", "bin")[i % 3]))
    with open(p, "wb") as f:
        f.write(os.urandom(1000 + (i * 7919) % 60000))
    t = 1700000000 + i * 86400 * 3
    os.utime(p, (t, t))
EOF
    want "$K/root" "$K/want" "$L3"
    "$PY3" "$PY" manifest "$K/want" >"$K/want.manifest"
    scanq "$K/root"
    set +e
    if [ "$mode" = xdev ]; then
        in_ns "$K/dest" "$WORK/kills.sh" "$K" "$url" "$MOVE" "$PY3" "$PY" "$q" "$ex" "$L3"
    else
        bash "$WORK/kills.sh" "$K" "$url" "$MOVE" "$PY3" "$PY" "$q" "$ex" "$L3"
    fi
    rc=$?
    set -e
    expect_rc 0 "kills ($mode): the script"
    rc=$(cat "$K/rc")
    cp "$K/out" "$WORK/out"
    expect_rc 0 "kills ($mode): the last mover"
    pycheck "kills ($mode): nothing dead-lettered at the end" jcheck "$WORK/out" dead_lettered=0
    checks=$((checks + 1))
    cmp -s "$K/want.manifest" "$K/after" ||
        fail "kills ($mode): DEST is not every file once at its place (no name.1 copies, no temporaries): $(diff "$K/want.manifest" "$K/after" | head -6 | cut -c1-200)"
    expect_no_files "$K/root" "kills ($mode): the sources are gone"
    expect_eq "$(count) $(count "$q.dead")" "0 0" "kills ($mode): queues empty"
    echo "kills ($mode): $(jsum duplicates "$WORK/out") duplicates in the last mover's run"
done

# --- conflicts on the expanded name, and their redeliveries ------------------------------
# conflict POLICY : $R holds x/same.txt, y/same.txt, z/same.txt, all three
# placed at DEST/same.txt by --layout '{name}', where an older file is.
conflict() {
    topo "conflict-$1"
    C=$WORK/conflict-$1
    R=$C/root
    D=$C/dest
    mkdir -p "$R/x" "$R/y" "$R/z" "$D" "$C/bodies"
    printf 'older\n' >"$D/same.txt"
    for s in x y z; do
        printf 'incoming from %s\n' "$s" >"$R/$s/same.txt"
        touch -d '2024-01-01 00:00:00 UTC' "$R/$s/same.txt"
        "$PY3" "$PY" msg "$C/bodies/$s" "$R" "$s/same.txt" "$R/$s/same.txt"
    done
    cp -a "$R" "$C/rootorig"
    cp -a "$D" "$C/destorig"
    publish "$C/bodies/x" "$C/bodies/y" "$C/bodies/z"
    moveq --from "$R" --to "$D" --layout '{name}' --on-conflict "$1" --idle-exit 1s --json
}
conflict rename
expect_rc 0 "conflict rename"
pycheck "conflict rename: --json summary" jcheck "$WORK/out" moved=3 dead_lettered=0
mkdir -p "$C/want"
cp -a "$C/destorig/same.txt" "$C/want/same.txt"
cp -a "$C/rootorig/x/same.txt" "$C/want/same.1.txt"
cp -a "$C/rootorig/y/same.txt" "$C/want/same.2.txt"
cp -a "$C/rootorig/z/same.txt" "$C/want/same.3.txt"
expect_same_tree "$C/want" "$D" "conflict rename: the older file and three conflict names"
expect_no_files "$R" "conflict rename: the sources are gone"
# The same messages again (a redelivery): found under their conflict names.
publish "$C/bodies/x" "$C/bodies/y" "$C/bodies/z"
moveq --from "$R" --to "$D" --layout '{name}' --idle-exit 1s --json
expect_rc 0 "conflict rename: redelivered"
pycheck "conflict rename: redelivered: duplicates" jcheck "$WORK/out" moved=0 duplicates=3 \
    dead_lettered=0
expect_same_tree "$C/want" "$D" "conflict rename: redelivered: no fourth copy"
expect_eq "$(count) $(count "$q.dead")" "0 0" "conflict rename: queues empty"

conflict skip
expect_rc 0 "conflict skip"
pycheck "conflict skip: --json summary" jcheck "$WORK/out" moved=0 skipped=3 dead_lettered=0
expect_same_tree "$C/destorig" "$D" "conflict skip: DEST unchanged"
expect_same_tree "$C/rootorig" "$R" "conflict skip: the sources stay"

conflict fail
expect_rc 1 "conflict fail (1: dead-lettered)"
pycheck "conflict fail: --json summary" jcheck "$WORK/out" moved=0 dead_lettered=3 \
    'dead_by_reason={"exists":3}'
expect_same_tree "$C/destorig" "$D" "conflict fail: DEST unchanged"
expect_same_tree "$C/rootorig" "$R" "conflict fail: the sources stay"

conflict overwrite
expect_rc 0 "conflict overwrite"
pycheck "conflict overwrite: --json summary" jcheck "$WORK/out" moved=3 dead_lettered=0
mkdir -p "$C/want"
cp -a "$C/rootorig/z/same.txt" "$C/want/same.txt"
expect_same_tree "$C/want" "$D" "conflict overwrite: the last one placed"
expect_no_files "$R" "conflict overwrite: the sources are gone"

# --- refused at start; an empty component; hostile values --------------------------------
topo bad
B=$WORK/bad
R=$B/root
D=$B/dest
mkdir -p "$R/sub" "$D" "$B/bodies"
printf 'at the top\n' >"$R/top.txt"
printf 'in a directory\n' >"$R/sub/in.txt"
cp -a "$R" "$B/rootorig"
scanq "$R"
for t in '../{name}' '/{path}' 'a/../{path}' '{dir}/../../{name}' '{nope}/{name}' '{name' \
    'x}/{name}' '{mtime:}/{name}' './{path}'; do
    moveq --from "$R" --to "$D" --layout "$t" --idle-exit 1s
    expect_rc 64 "refused: --layout '$t'"
    expect_lines err 2 "refused: --layout '$t': one sentence and the hint"
    expect_re err "^move: error: --layout: " "refused: --layout '$t': the sentence"
    expect_in err "Try 'move --help'." "refused: --layout '$t': the hint"
    expect_eq "$(cat "$WORK/out")" "" "refused: --layout '$t': nothing on stdout"
done
expect_eq "$(count)" 2 "refused: nothing consumed"
expect_no_files "$D" "refused: nothing at DEST"
moveq --from "$R" --to "$D" --layout '{dir}/{name}' --idle-exit 1s --json
expect_rc 1 "empty component (1: dead-lettered)"
pycheck "empty component: --json summary" jcheck "$WORK/out" moved=1 dead_lettered=1 \
    'dead_by_reason={"bad-layout":1}'
expect_files "$D" "empty component: the nested file moved" "'sub/in.txt'"
rm "$B/rootorig/sub/in.txt"
expect_same_tree "$B/rootorig" "$R" "empty component: the top-level source untouched"
printf 'bad-layout\ttop.txt\n' >"$WORK/expect"
expect_eq "$(dead "$WORK/dead")" 1 "empty component: one dead letter"
pycheck "empty component: dead-lettered as bad-layout" checkdead "$WORK/dead" "$WORK/expect" \
    "$ex.dlx" "$q"
checks=$((checks + 1))
grep -q 'empty component' "$WORK/dead" ||
    fail "empty component: the letter's error does not say why: $(head -c 400 "$WORK/dead")"

topo hostile
H=$WORK/hostile
R=$H/root
D=$H/dest
mkdir -p "$R" "$D" "$H/bodies"
for f in up dotdot nomime fine; do
    printf '%s\n' "$f" >"$R/$f.txt"
done
cp -a "$R" "$H/rootorig"
me=$(hostname)
"$PY3" "$PY" msg "$H/bodies/up" "$R" up.txt "$R/up.txt" 'mime="../x"'
"$PY3" "$PY" msg "$H/bodies/dotdot" "$R" dotdot.txt "$R/dotdot.txt" 'mime="text/plain"' \
    'host=".."'
"$PY3" "$PY" msg "$H/bodies/nomime" "$R" nomime.txt "$R/nomime.txt" 'mime=""'
"$PY3" "$PY" msg "$H/bodies/fine" "$R" fine.txt "$R/fine.txt" 'mime="text/plain"'
publish "$H/bodies/up" "$H/bodies/dotdot" "$H/bodies/nomime" "$H/bodies/fine"
moveq --from "$R" --to "$D" --layout '{mime}/{host}/{name}' --idle-exit 1s --json
expect_rc 1 "hostile values (1: dead-lettered)"
pycheck "hostile values: --json summary" jcheck "$WORK/out" moved=1 dead_lettered=3 \
    'dead_by_reason={"bad-layout":3}'
expect_files "$D" "hostile values: only the fine one placed" "'text/plain/$me/fine.txt'"
rm "$H/rootorig/fine.txt"
expect_same_tree "$H/rootorig" "$R" "hostile values: the sources untouched"
printf 'bad-layout\t@%s\n' "$H/bodies/up" "$H/bodies/dotdot" "$H/bodies/nomime" >"$WORK/expect"
expect_eq "$(dead "$WORK/dead")" 3 "hostile values: three dead letters"
pycheck "hostile values: dead-lettered as bad-layout" checkdead "$WORK/dead" "$WORK/expect" \
    "$ex.dlx" "$q"
expect_eq "$(find "$H" -name x -o -name '..?*' | wc -l)" 0 "hostile values: nothing outside DEST"

# --- --requeue-dead --layout: "already at DEST" where the layout puts it ------------------
topo requeue
Q=$WORK/requeue
R=$Q/root
D=$Q/dest
mkdir -p "$R/d" "$D" "$Q/bodies" "$Q/elsewhere"
printf 'moved by hand\n' >"$R/d/a.txt"
touch -d '2024-03-15 12:00:00 UTC' "$R/d/a.txt"
"$PY3" "$PY" msg "$Q/bodies/a" "$R" d/a.txt "$R/d/a.txt"
publish "$Q/bodies/a"
moveq --from "$Q/elsewhere" --to "$D" --idle-exit 1s --json
expect_rc 1 "requeue: dead-lettered by a mover without the root"
# Meanwhile the file reached its place by other means (same inode).
mkdir -p "$D/txt/2024"
mv "$R/d/a.txt" "$D/txt/2024/a.txt"
moveq --requeue-dead --from "$R" --to "$D" --dry-run --json
expect_rc 0 "requeue: --dry-run without --layout"
expect_in out '"action":"drop-gone"' "requeue: without --layout, not found at DEST/d/a.txt"
moveq --requeue-dead --from "$R" --to "$D" --layout '{ext}/{mtime_utc:%Y}/{name}' --json
expect_rc 0 "requeue: with --layout"
expect_in out '"at-dest":1' "requeue: with --layout, found at its place"
expect_eq "$(count) $(count "$q.dead")" "0 0" "requeue: the letter dropped"

finish
