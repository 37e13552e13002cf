#!/usr/bin/env bash
# Self test of tests/audit.sh, against the private broker: a small tree is
# snapshotted, scanned and moved (a correct state: the audit passes, before
# and after the move); then each violation is made in turn, and the audit
# must fail (exit 1) naming it, and pass again once it is undone:
#   a lost file, a file at both places, other bytes at DEST (same size,
#   mode and mtime), a temporary .scanmove-x.tmp at DEST and at ROOT, an
#   extra file at DEST (a conflict copy), a changed --outside dir, a file
#   left at ROOT with no message, an extra file at ROOT, a directory of
#   ROOT replaced by a symlink;
# and: a file left at ROOT whose message is dead-lettered is counted by
# reason (x-scanmove-reason from move, x-death delivery_limit from the
# broker), --ignore leaves a path out, usage errors exit 2, and peek leaves
# the queue as it was.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/lib.sh"
unset SCANMOVE_JOBS
PY=$TESTS_DIR/move_util.py
AUDIT=$TESTS_DIR/audit.sh
umask 022

q="audit-$tag"
ex="audit-ex-$tag"
declared=("$q")
# settled (tests/broker/lib.sh) waits: the broker requeues a peek's
# messages just after the connection closes.

R=$WORK/root
D=$WORK/dest
O=$WORK/canary
mkdir -p "$R/plain/sub" "$D" "$O/deep"
"$PY3" "$PY" mktree "$R" 40 7
for i in 1 2 3 4 5; do
    printf 'plain file %s\n' "$i" >"$R/plain/f$i.txt"
done
printf 'in a sub dir\n' >"$R/plain/sub/g.txt"
ln -s ../plain/f1.txt "$R/plain/link"
printf 'canary\n' >"$O/c.txt"
printf 'deep canary\n' >"$O/deep/d.txt"
ln -s c.txt "$O/l"
"$AUDIT" snapshot "$R" >"$WORK/m.root"
"$AUDIT" snapshot "$O" >"$WORK/m.out"
nman=$(grep -c $'\tfile ' "$WORK/m.root")
expect_eq "$nman" 46 "snapshot: 46 regular files"
checks=$((checks + 1))
grep -qF "b'plain/link'"$'\t'"link b'../plain/f1.txt'" "$WORK/m.root" ||
    fail "snapshot: the symlink and its target: $(grep link "$WORK/m.root")"
checks=$((checks + 1))
grep -qF "b'plain/sub'"$'\t'"dir" "$WORK/m.root" || fail "snapshot: directories are listed"
checks=$((checks + 1))
sort -c "$WORK/m.root" 2>/dev/null || LC_ALL=C sort -c "$WORK/m.root" ||
    fail "snapshot: not sorted"
checks=$((checks + 1))
grep -q "^b'lat\\\\xe9" "$WORK/m.root" || fail "snapshot: a name that is not UTF-8, as bytes repr"

# audit [EXTRA ARGS...] : the full check, result in $rc, out, err.
audit() {
    run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" \
        --manifest "$WORK/m.root" --outside "$O=$WORK/m.out" "$@"
}
# passes WHAT [ARGS...] : the audit passes, with the clean summary.
passes() {
    local what=$1
    shift
    audit "$@"
    expect_rc 0 "$what: the audit passes"
    expect_re out '; 0 lost, 0 at both places, 0 strays, 0 temporaries, outside unchanged$' \
        "$what: clean summary"
    expect_lines err 0 "$what: no violation reported"
}
# fails WHAT KIND TEXT SUMMARY : the audit exits 1, stderr has "audit: KIND: "
# with TEXT, stdout the summary with SUMMARY.
fails() {
    audit
    expect_rc 1 "$1: the audit fails"
    expect_in err "audit: $2: " "$1: reported as $2"
    expect_in err "$3" "$1: names it"
    expect_in out "$4" "$1: summary"
}

# --- a correct state: everything at the source, queued -----------------------------------
run env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q "$R"
expect_rc 0 "scan"
expect_eq "$(count)" 46 "46 messages queued"
passes "all at the source, queued"
expect_in out "audit: 46 files: 0 at DEST, 46 at the source with a message queued, 0 dead-lettered;" \
    "all at the source: counted"
expect_eq "$(settled "$q" 46)" 46 "the audit's peek leaves the 46 messages queued"

# --- the correct state after a move -------------------------------------------------------
run env AMQP_URL="$url" timeout 120 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
    --idle-exit 1s -q
expect_rc 0 "move"
passes "after the move"
expect_in out "audit: 46 files: 46 at DEST, 0 at the source with a message queued, 0 dead-lettered;" \
    "after the move: counted"
run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" --manifest "$WORK/m.root" \
    --outside "$O=$WORK/m.out" --quiet
expect_rc 0 "--quiet: passes"
expect_lines out 0 "--quiet: no summary"

# --- each violation in turn ---------------------------------------------------------------
F=plain/f2.txt
# lost
mv "$D/$F" "$WORK/saved"
fails "lost" lost "'plain/f2.txt' is neither at ROOT nor at DEST" "; 1 lost, 0 at both places"
mv "$WORK/saved" "$D/$F"
passes "lost undone"

# at both places
cp -a "$D/$F" "$R/$F"
fails "both" "at both places" "'plain/f2.txt' is at ROOT" "; 0 lost, 1 at both places"
rm "$R/$F"

# other bytes at DEST, same size, mode and mtime
cp -a "$D/$F" "$WORK/saved"
chmod u+w "$D/$F"
printf 'plain file X\n' | dd of="$D/$F" conv=notrunc status=none
chmod --reference="$WORK/saved" "$D/$F"
touch -r "$WORK/saved" "$D/$F"
fails "changed bytes" changed "DEST/'plain/f2.txt': other bytes" ", 1 changed"
# ... and another mode, another mtime
chmod 600 "$D/$F"
touch -d @1000000000 "$D/$F"
fails "changed mode and mtime" changed "mode 600, was 644; mtime 1000000000000000000" ", 1 changed"
# --ignore leaves it out
passes "--ignore" --ignore "$F"
passes "--ignore a directory" --ignore plain/
cp -a "$WORK/saved" "$D/$F"
passes "changed undone"

# temporaries
printf 'half a copy' >"$D/plain/.scanmove-x.tmp"
fails "temporary at DEST" temporary "DEST/'plain/.scanmove-x.tmp'" "0 strays, 1 temporaries"
expect_not_in err "stray" "temporary at DEST: not also a stray"
rm "$D/plain/.scanmove-x.tmp"
mkdir "$R/.scanmove-0123"
fails "temporary at ROOT" temporary "ROOT/'.scanmove-0123' (a directory)" "1 temporaries"
rmdir "$R/.scanmove-0123"

# an extra file at DEST: a conflict copy
cp -a "$D/$F" "$D/plain/f2.1.txt"
fails "stray" "stray at DEST" "DEST/'plain/f2.1.txt' (a regular file, 13 bytes)" ", 1 strays,"
rm "$D/plain/f2.1.txt"
ln -s f1.txt "$D/plain/lnk"
fails "stray symlink" "stray at DEST" "DEST/'plain/lnk' (a symlink" ", 1 strays,"
rm "$D/plain/lnk"

# the outside dir changed: bytes, a new file, a removed one, a dir replaced by a symlink
cp -p "$O/c.txt" "$WORK/c.orig"
printf 'canarY\n' >"$O/c.txt"
touch -r "$WORK/c.orig" "$O/c.txt"
fails "outside: bytes" "outside changed" "/canary/'c.txt' is now file " "outside changed (1 differences)"
cp -p "$WORK/c.orig" "$O/c.txt"
passes "outside undone"
touch "$O/new"
fails "outside: new file" "outside changed" "/canary/'new' appeared" "outside changed"
rm "$O/new"
mv "$O/deep" "$WORK/deep"
ln -s "$WORK/deep" "$O/deep"
fails "outside: a dir replaced by a symlink" "outside changed" "/canary/'deep' is now link " \
    "outside changed (2 differences)"
rm "$O/deep"
mv "$WORK/deep" "$O/deep"
passes "outside restored"

# a file left at ROOT, no message for it
mv "$D/$F" "$R/$F"
fails "no message" "no message" "ROOT/'plain/f2.txt' is at the source, but no message in $q or $q.dead" \
    ", 1 at the source without a message"
# ... with its message it passes
run env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q --include plain/f2.txt "$R"
expect_rc 0 "scan of the one file"
expect_eq "$(count)" 1 "one message"
passes "left at ROOT, with its message"
expect_in out "audit: 46 files: 45 at DEST, 1 at the source with a message queued, 0 dead-lettered;" \
    "left at ROOT, queued: counted"
# ... dead-lettered by move (a message with another inode: changed)
"$PY3" "$AMQP" get "$url" "$q" 10 "$WORK/got" >/dev/null
"$PY3" "$PY" msg "$WORK/bad.json" "$R" "$F" "$R/$F" ino='"1"'
"$PY3" "$AMQP" publish "$url" "$ex" "$q" "$WORK/bad.json"
run env AMQP_URL="$url" timeout 60 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
    --idle-exit 1s -q
expect_rc 1 "move dead-letters the message (and exits 1)"
expect_eq "$(count "$q.dead")" 1 "one dead letter"
passes "dead-lettered by move"
expect_in out "45 at DEST, 0 at the source with a message queued, 1 dead-lettered (changed: 1);" \
    "dead-lettered by move: its reason"
expect_eq "$(settled "$q.dead" 1)" 1 "the audit leaves the dead letter"
"$PY3" "$AMQP" get "$url" "$q.dead" 10 "$WORK/got" >/dev/null
# ... dead-lettered by the broker: a queue with a delivery limit of 2, the
# message peeked until the broker dead-letters it (each peek returns it, one
# delivery more; RabbitMQ 3.10 dead-letters once the count exceeds the limit)
q2="audit2-$tag"
ex2="audit2-ex-$tag"
declared+=("$q2")
# (--requeue-after 0: the file is marked as queued in $q since the scan above)
run env AMQP_URL="$url" "$SCAN" --queue "$q2" --exchange "$ex2" --delivery-limit 2 --no-mime -q \
    --requeue-after 0 --include plain/f2.txt "$R"
expect_rc 0 "scan into a queue with delivery limit 2"
expect_eq "$("$PY3" "$AMQP" peek "$url" "$q2" 10 "$WORK/peek1")" 1 "peek 1 sees the message"
expect_eq "$(settled "$q2" 1)" 1 "after one peek the message is still queued"
expect_eq "$("$PY3" "$AMQP" peek "$url" "$q2" 10 "$WORK/peek2")" 1 "peek 2 sees it again"
checks=$((checks + 1))
"$PY3" -c 'import json, sys; sys.exit(0 if json.loads(open(sys.argv[1]).readline())["redelivered"] else 1)' \
    "$WORK/peek2" || fail "peek 2: the message is marked redelivered: $(head -c 300 "$WORK/peek2")"
peeks=2
while [ "$peeks" -lt 6 ] && [ "$(count "$q2.dead")" = 0 ]; do
    "$PY3" "$AMQP" peek "$url" "$q2" 10 "$WORK/peek3" >/dev/null
    peeks=$((peeks + 1))
    for _ in $(seq 20); do
        [ "$(count "$q2.dead")" = 0 ] || break
        sleep 0.1
    done
done
expect_eq "$(count "$q2") $(count "$q2.dead")" "0 1" "peeks reach the delivery limit 2"
echo "delivery limit 2: the message was dead-lettered after $peeks peeks"
run "$AUDIT" check --url "$url" --queue "$q2" --root "$R" --dest "$D" --manifest "$WORK/m.root"
expect_rc 0 "dead-lettered by the broker: the audit passes"
expect_in out "1 dead-lettered (delivery_limit: 1); 0 lost, 0 at both places, 0 strays, 0 temporaries, outside not checked" \
    "dead-lettered by the broker: its x-death reason"
mv "$R/$F" "$D/$F"
passes "file moved back"

# extra at ROOT: a file the manifest does not have; a dir replaced by a symlink
printf 'new\n' >"$R/plain/new.txt"
fails "extra file at ROOT" "extra at the source" "ROOT/'plain/new.txt' (a regular file) is not in the manifest" \
    ", 1 extra at the source"
rm "$R/plain/new.txt"
mv "$R/plain/sub" "$WORK/sub"
ln -s "$WORK/sub" "$R/plain/sub"
fails "a dir of ROOT replaced by a symlink" "extra at the source" "ROOT/'plain/sub' is now link " \
    ", 1 extra at the source"
rm "$R/plain/sub"
mv "$WORK/sub" "$R/plain/sub"
# the symlink of the manifest is gone
mv "$R/plain/link" "$WORK/link"
fails "a symlink of ROOT gone" lost "ROOT/'plain/link' (link b'../plain/f1.txt') is gone" "; 1 lost,"
mv "$WORK/link" "$R/plain/link"
passes "all undone"

# several at once, more than 20 of a kind
for i in $(seq 1 25); do
    printf 'x%s\n' "$i" >"$D/stray$i"
done
fails "25 strays" "stray at DEST" "... and 5 more" ", 25 strays,"
expect_eq "$(grep -c '^audit: stray at DEST: ' "$WORK/err")" 21 "25 strays: 20 shown, then a count"
rm "$D"/stray*
passes "strays removed"

# --- usage errors ---------------------------------------------------------------------------
run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D"
expect_rc 2 "usage: no --manifest"
run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" --manifest "$WORK/m.root" \
    --outside "$O"
expect_rc 2 "usage: --outside without =MANIFEST"
run "$AUDIT" check --url "$url" --queue "$q" --root "$WORK/nonexistent" --dest "$D" \
    --manifest "$WORK/m.root"
expect_rc 2 "usage: no ROOT"
run "$AUDIT" frobnicate
expect_rc 2 "usage: unknown command"
run "$AUDIT" snapshot "$WORK/nonexistent"
expect_rc 2 "usage: snapshot of a missing dir"

expect_eq "$(count) $(count "$q.dead")" "0 0" "the queues are empty at the end"
finish
