#!/usr/bin/env bash
# Against the private broker: move takes every file scan published to
# DEST/<same relative path>, byte-identical with its mode and mtime, acking
# each message only once its file is in place; several movers share a queue
# without moving a file twice; --count and --idle-exit stop it; a repeated
# message is a duplicate; hostile, changed and vanished files are
# dead-lettered to <queue>.dead with the reason in x-scanmove-reason and
# nothing outside the roots touched; the four --on-conflict policies; option
# errors; SIGTERM and SIGINT; a move to another file system (tmpfs), and a
# full one (transient error: requeued until the broker dead-letters it).
#
# The contract is the move interface spec (docs/move.1) and
# docs/message-format.md. Messages are crafted, published and read back
# (with their headers) by tests/amqp_tool.py, a small AMQP 0-9-1 client in
# Python (standard library only): amqp-get cannot show headers.
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
AMQP=$TESTS_DIR/amqp_tool.py
umask 022

url=$("$BROKER_SH" url)
tag=$$
declared=()
bg=()

# The broker must keep running for the other broker tests; stop any mover
# this test left running, then remove what it declared.
cleanup() {
    local p q
    for p in "${bg[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
    done
    for q in "${declared[@]}"; do
        amqp-delete-queue --url="$url" -q "$q" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

PY=$TESTS_DIR/move_util.py

# expect_summary MOVED SKIPPED DUPLICATES DEAD REQUEUED WHAT : the summary
# line of the last run.
expect_summary() {
    expect_re err "^move: $1 moved, $2 skipped, $3 duplicates, $4 dead-lettered, $5 requeued in [0-9]+(\.[0-9]+)? s \([0-9]+ files/s\)$" \
        "$6: summary line"
}

# expect_same_tree A B WHAT : the files below A and B (names, bytes, modes,
# mtimes; directories aside) are the same.
expect_same_tree() {
    checks=$((checks + 1))
    "$PY3" "$PY" manifest "$1" >"$WORK/m1"
    "$PY3" "$PY" manifest "$2" >"$WORK/m2"
    cmp -s "$WORK/m1" "$WORK/m2" ||
        fail "$3: $(diff "$WORK/m1" "$WORK/m2" | head -8 | cut -c1-300)"
}

# expect_manifest FILE DIR WHAT : DIR's manifest is the one saved in FILE.
expect_manifest() {
    checks=$((checks + 1))
    "$PY3" "$PY" manifest "$2" >"$WORK/m2"
    cmp -s "$1" "$WORK/m2" || fail "$3: $(diff "$1" "$WORK/m2" | head -8 | cut -c1-300)"
}

# expect_no_files DIR WHAT : only directories are left below DIR.
expect_no_files() {
    checks=$((checks + 1))
    local left
    left=$("$PY3" "$PY" files "$1")
    [ -z "$left" ] || fail "$2: files left below $1: $(printf '%s' "$left" | head -c 400)"
}

# expect_files DIR WHAT PATH... : exactly these files below DIR (a python
# repr of each relative path: 'a/b' or b'\xff').
expect_files() {
    checks=$((checks + 1))
    local dir=$1 what=$2
    shift 2
    printf '%s\n' "$@" | sort >"$WORK/want"
    "$PY3" "$PY" files "$dir" | sed -E "s/^b'(.*)'\$/'\\1'/" | sort >"$WORK/got"
    cmp -s "$WORK/want" "$WORK/got" ||
        fail "$what: $(diff "$WORK/want" "$WORK/got" | head -8 | tr '\n' ' ')"
}

# topo N : $q and $ex of their own for part N, remembered for cleanup.
topo() {
    q="move-$tag-$1"
    ex="move-ex-$tag-$1"
    declared+=("$q" "$q.dead")
    env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex" >/dev/null ||
        fail "$1: scan --check could not declare the topology"
}

# scanq ARGS... : scan into $q through $ex; must succeed.
scanq() {
    run env AMQP_URL="$url" timeout 120 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q "$@"
    expect_rc 0 "scan $*"
}

# moveq ARGS... : run move on $q through $ex.
moveq() { run env AMQP_URL="$url" timeout 90 "$MOVE" --queue "$q" --exchange "$ex" "$@"; }

# count [QUEUE] : ready messages in QUEUE (default $q).
count() { "$PY3" "$AMQP" count "$url" "${1:-$q}" 2>&1 | cut -d' ' -f1; }

# consumers : consumers of $q.
consumers() { "$PY3" "$AMQP" count "$url" "$q" 2>&1 | cut -d' ' -f2; }

# wait_count N : wait up to 10 s for $q to hold N ready messages.
wait_count() {
    local i
    for i in $(seq 100); do
        [ "$(count)" = "$1" ] && return 0
        sleep 0.1
    done
    return 0
}

# dead OUT : take every message off $q.dead into OUT; prints how many.
dead() { "$PY3" "$AMQP" get "$url" "$q.dead" 100000 "$1"; }

# publish FILE... : publish crafted bodies to $ex with the routing key files.
publish() { "$PY3" "$AMQP" publish "$url" "$ex" files "$@" || fail "publish $*"; }

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

# --- the same message twice: the second is a duplicate -----------------------------------
topo dup
R=$WORK/dup/root
D=$WORK/dup/dest
mkdir -p "$R/sub" "$D"
echo one >"$R/a.txt"
echo two >"$R/sub/b.tar.gz"
echo three >"$R/noext"
"$PY3" "$PY" manifest "$R" >"$WORK/dup.before"
scanq "$R"
scanq "$R"
expect_eq "$(count)" 6 "duplicates: two messages per file"
moveq --from "$R" --to "$D" --idle-exit 1s --json
expect_rc 0 "duplicates"
pycheck "duplicates: --json summary" jcheck "$WORK/out" moved=3 duplicates=3 dead_lettered=0 \
    skipped=0
expect_summary 3 0 3 0 0 "duplicates"
expect_manifest "$WORK/dup.before" "$D" "duplicates: DEST has each file once, no conflict copy"
expect_no_files "$R" "duplicates: ROOT empty"
expect_eq "$(count)" 0 "duplicates: queue empty (the second messages acked)"
expect_eq "$(count "$q.dead")" 0 "duplicates: nothing dead-lettered"

# --- hostile messages: dead-lettered with their reason; nothing outside changes ----------
topo hostile
H=$WORK/hostile
R=$H/root
D=$H/dest
C=$WORK/canary
B=$H/bodies
mkdir -p "$R/sub" "$D" "$B" "$C/secret" "$C/other" "$H/rootx"
echo "root:x:0:0" >"$C/passwd"
echo "key" >"$C/secret/id_rsa"
echo "other root's file" >"$C/other/file.txt"
echo "sibling" >"$H/rootx/file.txt"
echo "in a subdirectory" >"$R/sub/in.txt"
ln -s "$C" "$R/link"
ln -s "$C/passwd" "$R/lnfile"
mkfifo "$R/fifo"
echo good >"$R/good.txt"
"$PY3" "$PY" manifest "$WORK/canary" >"$WORK/canary.before"
"$PY3" "$PY" manifest "$H/rootx" >"$WORK/rootx.before"
: >"$WORK/expect"
# hostile NAME REASON BODY-MAKER... : a crafted body, expected dead-lettered as REASON.
hostile() {
    local name=$1 reason=$2
    shift 2
    "$@" >"$B/$name" || fail "hostile: cannot make the $name body"
    printf '%s\t@%s\n' "$reason" "$B/$name" >>"$WORK/expect"
}
crafted() { # crafted ROOT PATH STATFILE OVERRIDES... > body
    "$PY3" "$PY" msg - "$@"
}
hostile badjson malformed-json printf '{"v":1,"id":'
hostile notobject not-object printf '[1,2,3]'
hostile version unknown-version crafted "$R" good.txt "$R/good.txt" v=2
hostile dotdot dotdot crafted "$R" ../../canary/passwd "$C/passwd"
hostile dotdot2 dotdot crafted "$R" sub/../../../canary/passwd "$C/passwd"
hostile absolute absolute-path crafted "$R" "$C/passwd" "$C/passwd"
hostile nul nul-byte crafted "$R" good.txt "$R/good.txt" 'path="good\u0000.txt"'
hostile relroot relative-root crafted "$R" good.txt "$R/good.txt" 'root="relative/root"'
hostile missing missing-field crafted "$R" good.txt "$R/good.txt" size=-
hostile wrongtype wrong-type crafted "$R" good.txt "$R/good.txt" size=4
hostile badid bad-value crafted "$R" good.txt "$R/good.txt" 'id="XYZ"'
hostile duproot duplicate-field crafted "$R" good.txt "$R/good.txt" 'root_b64="L3RtcA=="'
hostile emptypath empty-path crafted "$R" good.txt "$R/good.txt" 'path=""'
# shellcheck disable=SC2046 # 2100 words on purpose
long=$(printf 'a/%.0s' $(seq 2100))f
hostile longpath path-too-long crafted "$R" "$long" -
hostile oversized oversized crafted "$R" good.txt "$R/good.txt" \
    "pad=\"$(head -c 70000 /dev/zero | tr '\0' x)\""
hostile otherroot root-not-allowed crafted "$C/other" file.txt "$C/other/file.txt"
hostile prefixroot root-not-allowed crafted "$H/rootx" file.txt "$H/rootx/file.txt"
hostile subroot root-not-allowed crafted "$R/sub" in.txt "$R/sub/in.txt"
hostile symlinkdir symlink crafted "$R" link/passwd "$C/passwd"
hostile symlinkdir2 symlink crafted "$R" link/secret/id_rsa "$C/secret/id_rsa"
hostile symlinkfile symlink crafted "$R" lnfile "$C/passwd"
hostile fifo not-regular crafted "$R" fifo "$R/fifo"
hostile directory not-regular crafted "$R" sub "$R/sub"
nhostile=$(wc -l <"$WORK/expect")
# shellcheck disable=SC2046 # the body files, one word each
publish $(cut -f2 "$WORK/expect" | sed 's/^@//')
# A good file after them shows the mover kept going.
scanq "$R"
expect_eq "$(count)" "$((nhostile + 2))" "hostile: crafted messages and the good ones queued"
moveq --from "$R" --to "$D" --idle-exit 1s --json
expect_rc 0 "hostile: the mover survives and exits 0 at idle"
pycheck "hostile: --json summary" jcheck "$WORK/out" moved=2 dead_lettered="$nhostile" \
    duplicates=0 skipped=0 \
    "dead_by_reason=$(cut -f1 "$WORK/expect" | sort | uniq -c |
        awk 'BEGIN{printf "{"} {printf "%s\"%s\":%d", (NR>1?",":""), $2, $1} END{printf "}"}')"
expect_summary 2 0 0 "$nhostile" 0 "hostile"
expect_eq "$(grep -Ec '^move: dead-lettered [^ ]+ \([a-z-]+\): .+$' "$WORK/err")" "$nhostile" \
    "hostile: one stderr line per dead-lettered message"
expect_re err '^move: dead-lettered - \(malformed-json\): .+$' \
    "hostile: a body without an id is logged as '-'"
for n in otherroot symlinkdir fifo; do
    id=$("$PY3" -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$B/$n")
    r=$(awk -F '\t' -v w="@$B/$n" '$2 == w { print $1 }' "$WORK/expect")
    expect_in err "move: dead-lettered $id ($r): " "hostile: $n logged with its id"
done
expect_eq "$(dead "$WORK/dead")" "$nhostile" "hostile: every crafted message in $q.dead"
pycheck "hostile: dead letters with their reasons" checkdead "$WORK/dead" "$WORK/expect" "$ex.dlx"
expect_manifest "$WORK/canary.before" "$WORK/canary" "hostile: nothing outside the root changed"
expect_manifest "$WORK/rootx.before" "$H/rootx" "hostile: the sibling root is untouched"
expect_files "$D" "hostile: only the good files reach DEST" "'good.txt'" "'sub/in.txt'"
expect_files "$R" "hostile: links and the fifo stay" "'fifo'" "'link'" "'lnfile'"
expect_eq "$(readlink "$R/link")" "$C" "hostile: ROOT/link still points where it did"
expect_eq "$(count)" 0 "hostile: the queue is empty"

# --- changed and vanished files --------------------------------------------------------
topo changed
R=$WORK/changed/root
D=$WORK/changed/dest
mkdir -p "$R" "$D" "$WORK/changed/orig"
for f in grown replaced touched gone gone2 fine; do echo "content of $f" >"$R/$f.txt"; done
echo "another size" >"$D/gone2.txt"
scanq "$R"
echo more >>"$R/grown.txt"
"$PY3" "$PY" replace "$R/replaced.txt" || fail "changed: replace"
"$PY3" "$PY" touchns "$R/touched.txt" 1 || fail "changed: touchns"
rm "$R/gone.txt" "$R/gone2.txt"
cp -a "$R/." "$WORK/changed/orig/"
cp -a "$D/gone2.txt" "$WORK/changed/gone2.orig"
printf '%s\t%s\n' changed grown.txt changed replaced.txt changed touched.txt vanished gone.txt \
    vanished gone2.txt >"$WORK/expect"
moveq --from "$R" --to "$D" --idle-exit 1s --json
expect_rc 0 "changed"
pycheck "changed: --json summary" jcheck "$WORK/out" moved=1 dead_lettered=5 duplicates=0 \
    'dead_by_reason={"changed":3,"vanished":2}'
expect_summary 1 0 0 5 0 "changed"
expect_eq "$(dead "$WORK/dead")" 5 "changed: five dead letters"
pycheck "changed: dead letters with their reasons" checkdead "$WORK/dead" "$WORK/expect" "$ex.dlx"
for f in grown replaced touched; do
    pycheck "changed: $f.txt stays in place as it is" same "$WORK/changed/orig/$f.txt" "$R/$f.txt"
done
expect_files "$D" "changed: only the unchanged file moved" "'fine.txt'" "'gone2.txt'"
pycheck "changed: a different file at DEST is no duplicate, and untouched" same \
    "$WORK/changed/gone2.orig" "$D/gone2.txt"

# --- scanned on another host: device numbers are not compared ---------------------------
# Hosts that mount one NFS export see different device numbers for it; the
# inode, size and mtime still name the file. A scan on this host must match
# the device too.
topo host
R=$WORK/host/root
D=$WORK/host/dest
mkdir -p "$R" "$D"
for f in local far farino; do echo "content of $f" >"$R/$f.txt"; done
dev=$(stat -c %d "$R/local.txt")
B=$WORK/host/bodies
mkdir -p "$B"
"$PY3" "$PY" msg "$B/local" "$R" local.txt "$R/local.txt" "dev=\"$((dev + 1))\""
"$PY3" "$PY" msg "$B/far" "$R" far.txt "$R/far.txt" "dev=\"$((dev + 1))\"" \
    'host="scan-host.elsewhere.example"'
"$PY3" "$PY" msg "$B/farino" "$R" farino.txt "$R/farino.txt" "dev=\"$((dev + 1))\"" \
    'host="scan-host.elsewhere.example"' 'ino="1"'
publish "$B/local" "$B/far" "$B/farino"
moveq --from "$R" --to "$D" --idle-exit 1s --json
expect_rc 0 "other host"
pycheck "other host: --json summary" jcheck "$WORK/out" moved=1 dead_lettered=2 \
    'dead_by_reason={"changed":2}'
expect_files "$D" "other host: the file scanned elsewhere moved, by its inode" "'far.txt'"
expect_files "$R" "other host: a wrong device from this host, a wrong inode from another, stay" \
    "'local.txt'" "'farino.txt'"

# --- --requeue-dead puts dead letters back on the queue ---------------------------------
topo requeue
R=$WORK/requeue/root
D=$WORK/requeue/dest
B=$WORK/requeue/bodies
mkdir -p "$R" "$D" "$B"
for f in a b c; do
    echo "content of $f" >"$R/$f.txt"
    "$PY3" "$PY" msg "$B/$f" "$R" "$f.txt" "$R/$f.txt"
done
publish "$B/a" "$B/b" "$B/c"
moveq --from "$WORK/requeue" --to "$D" --idle-exit 1s --json
expect_rc 0 "requeue: a mover without the root"
pycheck "requeue: all three dead-lettered" jcheck "$WORK/out" moved=0 dead_lettered=3 \
    'dead_by_reason={"root-not-allowed":3}'
expect_eq "$(count "$q.dead")" 3 "requeue: three dead letters"
moveq --requeue-dead --count 2 --json
expect_rc 0 "requeue: --requeue-dead --count 2"
expect_eq "$(cat "$WORK/out")" '{"requeued_dead":2}' "requeue: --json counts two"
expect_re err "^move: requeued 2 dead letters from '$q.dead' to exchange '$ex'\$" \
    "requeue: the summary line"
expect_eq "$(count) $(count "$q.dead")" "2 1" "requeue: two back on the queue, one left"
moveq --requeue-dead -q
expect_rc 0 "requeue: --requeue-dead the rest"
expect_eq "$(count) $(count "$q.dead")" "3 0" "requeue: all back on the queue"
moveq --requeue-dead --json
expect_eq "$(cat "$WORK/out")" '{"requeued_dead":0}' "requeue: nothing left to requeue"
moveq --from "$R" --to "$D" --idle-exit 1s --json
pycheck "requeue: the right mover moves them" jcheck "$WORK/out" moved=3 dead_lettered=0
expect_files "$D" "requeue: all three at DEST" "'a.txt'" "'b.txt'" "'c.txt'"
moveq --requeue-dead --from "$R"
expect_rc 64 "requeue: --requeue-dead with --from"

# --- conflicts ---------------------------------------------------------------------------
# conflict_setup NAME : ROOT with new files, DEST with old ones at some of
# the same paths; snapshots in $WORK/NAME/{rootorig,destorig}.
conflict_setup() {
    topo "$1"
    R=$WORK/$1/root
    D=$WORK/$1/dest
    mkdir -p "$R/c/v1.2" "$D/c/v1.2"
    local f
    for f in c/report.pdf c/noext c/a.tar.gz c/.hidden c/twice.txt c/v1.2/noext c/free.txt; do
        echo "new $f, longer" >"$R/$f"
        touch -d @1700000000.5 "$R/$f"
    done
    chmod 600 "$R/c/report.pdf"
    for f in c/report.pdf c/noext c/a.tar.gz c/.hidden c/twice.txt c/twice.1.txt c/v1.2/noext; do
        echo "old $f" >"$D/$f"
        touch -d @1600000000.25 "$D/$f"
    done
    cp -a "$R" "$WORK/$1/rootorig"
    cp -a "$D" "$WORK/$1/destorig"
    scanq --hidden "$R"
}
old_files=("'c/report.pdf'" "'c/noext'" "'c/a.tar.gz'" "'c/.hidden'" "'c/twice.txt'"
    "'c/twice.1.txt'" "'c/v1.2/noext'")

conflict_setup rename
moveq --from "$R" --to "$D" --idle-exit 1s --json --fsync
expect_rc 0 "rename (and --fsync)"
pycheck "rename: --json summary" jcheck "$WORK/out" moved=7 skipped=0 dead_lettered=0
expect_summary 7 0 0 0 0 "rename"
expect_files "$D" "rename: the incoming files beside the old ones" "${old_files[@]}" \
    "'c/report.1.pdf'" "'c/noext.1'" "'c/a.tar.1.gz'" "'c/.hidden.1'" "'c/twice.2.txt'" \
    "'c/v1.2/noext.1'" "'c/free.txt'"
o=$WORK/rename/rootorig
for pair in report.pdf:report.1.pdf noext:noext.1 a.tar.gz:a.tar.1.gz .hidden:.hidden.1 \
    twice.txt:twice.2.txt v1.2/noext:v1.2/noext.1 free.txt:free.txt; do
    pycheck "rename: c/${pair%%:*} arrives as c/${pair#*:}" same "$o/c/${pair%%:*}" "$D/c/${pair#*:}"
done
for f in "${old_files[@]}"; do
    f=${f//\'/}
    pycheck "rename: the old $f is untouched" same "$WORK/rename/destorig/$f" "$D/$f"
done
expect_no_files "$R" "rename: ROOT empty"
expect_eq "$(count)" 0 "rename: queue empty"

conflict_setup skip
moveq --from "$R" --to "$D" --idle-exit 1s --on-conflict skip --json
expect_rc 0 "skip"
pycheck "skip: --json summary" jcheck "$WORK/out" moved=1 skipped=6 dead_lettered=0
expect_summary 1 6 0 0 0 "skip"
expect_same_tree "$WORK/skip/destorig/c/v1.2" "$D/c/v1.2" "skip: DEST v1.2 untouched"
expect_files "$D" "skip: DEST has the old files and the free one" "${old_files[@]}" "'c/free.txt'"
for f in "${old_files[@]}"; do
    f=${f//\'/}
    pycheck "skip: the old $f is untouched" same "$WORK/skip/destorig/$f" "$D/$f"
done
rm "$WORK/skip/rootorig/c/free.txt"
expect_same_tree "$WORK/skip/rootorig" "$R" "skip: the skipped sources stay"
expect_eq "$(count)" 0 "skip: the skipped messages are acked"
expect_eq "$(count "$q.dead")" 0 "skip: nothing dead-lettered"

conflict_setup fail
moveq --from "$R" --to "$D" --idle-exit 1s --on-conflict fail --json
expect_rc 0 "fail"
pycheck "fail: --json summary" jcheck "$WORK/out" moved=1 dead_lettered=6 \
    'dead_by_reason={"exists":6}'
expect_summary 1 0 0 6 0 "fail"
expect_files "$D" "fail: DEST has the old files and the free one" "${old_files[@]}" "'c/free.txt'"
for f in "${old_files[@]}"; do
    f=${f//\'/}
    pycheck "fail: the old $f is untouched" same "$WORK/fail/destorig/$f" "$D/$f"
done
rm "$WORK/fail/rootorig/c/free.txt"
expect_same_tree "$WORK/fail/rootorig" "$R" "fail: the sources stay"
printf 'exists\t%s\n' c/report.pdf c/noext c/a.tar.gz c/.hidden c/twice.txt c/v1.2/noext \
    >"$WORK/expect"
expect_eq "$(dead "$WORK/dead")" 6 "fail: six dead letters"
pycheck "fail: dead-lettered as exists" checkdead "$WORK/dead" "$WORK/expect" "$ex.dlx"

conflict_setup overwrite
moveq --from "$R" --to "$D" --idle-exit 1s --on-conflict overwrite --json
expect_rc 0 "overwrite"
pycheck "overwrite: --json summary" jcheck "$WORK/out" moved=7 dead_lettered=0 skipped=0
expect_summary 7 0 0 0 0 "overwrite"
cp -a "$WORK/overwrite/rootorig/." "$WORK/overwrite/destorig/"
expect_same_tree "$WORK/overwrite/destorig" "$D" \
    "overwrite: DEST has the new files (and the old twice.1.txt), nothing else"
expect_no_files "$R" "overwrite: ROOT empty"
expect_eq "$(count)" 0 "overwrite: queue empty"

# --- option errors ---------------------------------------------------------------------
topo usage
U=$WORK/usage
mkdir -p "$U/root/sub" "$U/root2" "$U/dest"
ln -s "$U/root" "$U/rootlink"
echo x >"$U/file"
m() { run env AMQP_URL="$url" timeout 30 "$MOVE" --queue "$q" --exchange "$ex" "$@"; }
m --from "$U/root" --to "$U/root" --idle-exit 1s
expect_rc 64 "--to equal to --from"
expect_in err "move: --to is the same directory as --from " "--to equal to --from: sentence"
m --from "$U/root" --to "$U/root/." --idle-exit 1s
expect_rc 64 "--to ROOT/. is --from ROOT"
m --from "$U/root" --to "$U/rootlink" --idle-exit 1s
expect_rc 64 "--to a symlink to --from ROOT"
m --from "$U/root2" --from "$U/rootlink" --to "$U/root" --idle-exit 1s
expect_rc 64 "--to equal to the second --from"
m --from "$U/nope" --to "$U/dest" --idle-exit 1s
expect_rc 66 "missing --from directory"
expect_eq "$(cat "$WORK/err")" "move: $U/nope: No such file or directory" "missing --from: sentence"
m --from "$U/file" --to "$U/dest" --idle-exit 1s
expect_rc 66 "--from a file"
expect_eq "$(cat "$WORK/err")" "move: $U/file: not a directory" "--from a file: sentence"
m --from "$U/root" --to "$U/nope" --idle-exit 1s
expect_rc 66 "missing --to directory"
m --from "$U/root" --idle-exit 1s
expect_rc 64 "no --to"
m --to "$U/dest" --idle-exit 1s
expect_rc 64 "no --from"
m --from "$U/root" --to "$U/dest" --on-conflict sometimes --idle-exit 1s
expect_rc 64 "--on-conflict sometimes"
m --from "$U/root" --to "$U/dest" --count many --idle-exit 1s
expect_rc 64 "--count many"
m --from "$U/root" --to "$U/dest" --idle-exit soon
expect_rc 64 "--idle-exit soon"
# --to inside a root is allowed (scan skips the hidden .done).
mkdir "$U/root/.done"
echo a >"$U/root/sub/a"
echo b >"$U/root/b"
scanq "$U/root"
m --from "$U/root" --to "$U/root/.done" --idle-exit 1s
expect_rc 0 "--to inside --from"
expect_summary 2 0 0 0 0 "--to inside --from"
expect_files "$U/root" "--to inside --from: files under .done" "'.done/sub/a'" "'.done/b'"

# --- SIGTERM and SIGINT while idle; SIGTERM while busy ----------------------------------
topo sig
R=$WORK/sig/root
D=$WORK/sig/dest
mkdir -p "$R" "$D"
# Background jobs of a script start with SIGINT ignored: dfl restores the
# default, then execs the command (so $! is the mover's pid).
dfl=("$PY3" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])')
for s in TERM INT; do
    "${dfl[@]}" env AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
        >"$WORK/out" 2>"$WORK/err" &
    mpid=$!
    bg+=("$mpid")
    for _ in $(seq 100); do
        [ "$(consumers)" = 1 ] && break
        sleep 0.1
    done
    expect_eq "$(consumers)" 1 "SIG$s: the idle mover is consuming"
    sleep 0.3
    kill -"$s" "$mpid"
    for _ in $(seq 50); do
        kill -0 "$mpid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$mpid" 2>/dev/null; then
        fail "SIG$s: the idle mover still runs 5 s later"
        kill -KILL "$mpid" 2>/dev/null || true
    fi
    set +e
    wait "$mpid"
    rc=$?
    set -e
    bg=()
    expect_rc 0 "SIG$s while idle"
    expect_summary 0 0 0 0 0 "SIG$s while idle"
done

# Busy: every file ends up in exactly one of ROOT and DEST, and the queue
# still holds a message for each file left in ROOT.
topo sigbusy
R=$WORK/sigbusy/root
D=$WORK/sigbusy/dest
mkdir -p "$R" "$D"
"$PY3" "$PY" mktree "$R" 2000 3
"$PY3" "$PY" manifest "$R" >"$WORK/busy.before"
scanq "$R"
env AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" --json \
    >"$WORK/out" 2>"$WORK/err" &
mpid=$!
bg+=("$mpid")
for _ in $(seq 100); do
    [ -n "$(find "$D" -type f -print -quit)" ] && break
    sleep 0.05
done
kill -TERM "$mpid"
for _ in $(seq 100); do
    kill -0 "$mpid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$mpid" 2>/dev/null; then
    fail "SIGTERM while busy: the mover still runs 10 s later"
    kill -KILL "$mpid" 2>/dev/null || true
fi
set +e
wait "$mpid"
rc=$?
set -e
bg=()
expect_rc 0 "SIGTERM while busy"
left=$("$PY3" "$PY" files "$R" | wc -l)   # names with newlines: one line each
moved=$("$PY3" "$PY" jnum "$WORK/out" moved)
expect_eq "$moved" "$((2000 - left))" "SIGTERM while busy: the summary counts the files moved"
[ "$left" -gt 0 ] || echo "NOTE: SIGTERM while busy: the mover had finished already" >&2
"$PY3" "$PY" manifest "$R" >"$WORK/busy.r"
"$PY3" "$PY" manifest "$D" >"$WORK/busy.d"
checks=$((checks + 1))
LC_ALL=C sort "$WORK/busy.before" >"$WORK/busy.want"
LC_ALL=C sort "$WORK/busy.r" "$WORK/busy.d" >"$WORK/busy.got"
cmp -s "$WORK/busy.want" "$WORK/busy.got" ||
    fail "SIGTERM while busy: files lost or doubled: $(diff "$WORK/busy.want" "$WORK/busy.got" |
        head -5 | cut -c1-200)"
wait_count "$left"
expect_eq "$(count)" "$left" "SIGTERM while busy: one message left per file left"
moveq --from "$R" --to "$D" --idle-exit 1s
expect_rc 0 "SIGTERM while busy: the rest"
expect_summary "$left" 0 0 0 0 "SIGTERM while busy: the rest"
expect_manifest "$WORK/busy.before" "$D" "SIGTERM while busy: all at DEST in the end"

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
# shellcheck disable=SC2016 # $1 is expanded by the inner sh
if unshare -m sh -c 'mount -t tmpfs tmpfs "$1"' sh "$D" 2>/dev/null; then
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
else
    echo "SKIP: cannot mount a tmpfs in a private mount namespace: no cross-device checks" >&2
fi

finish
