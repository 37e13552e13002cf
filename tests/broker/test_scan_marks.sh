#!/usr/bin/env bash
# Against the private broker: scan's in-flight mark (common/mark.h). A file
# whose message the broker confirmed is marked user.scanmove.queued=<id>,<time>
# and not published again by later scans (already-queued) until
# --requeue-after has passed; a changed file is published at once; the mover
# removes the mark on arrival; a file moved away and back is published
# again; a mark that cannot be written is counted and costs nothing else;
# --dry-run writes no mark.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/scan_lib.sh"

# marks DIR : "<files with a mark> <files>" below DIR.
marks() {
    "$PY3" - "$1" <<'PYEOF'
import os, sys
n = m = 0
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        n += 1
        try:
            if "user.scanmove.queued" in os.listxattr(os.path.join(d, f), follow_symlinks=False):
                m += 1
        except OSError:
            pass
print(m, n)
PYEOF
}
# mark_of FILE : the mark's value, or "none".
mark_of() {
    "$PY3" -c 'import os,sys
try: print(os.getxattr(sys.argv[1], "user.scanmove.queued").decode())
except OSError: print("none")' "$1"
}

topo_names marks
R=$WORK/in
mkdir -p "$R/sub"
for i in 1 2 3 4 5; do echo "file $i" >"$R/f$i.txt"; done
echo deep >"$R/sub/deep.txt"

# --- a dry run marks nothing --------------------------------------------------------------
run env AMQP_URL="$url" "$SCAN" --dry-run --no-mime "$R"
expect_rc 0 "dry run"
expect_eq "$(marks "$R")" "0 6" "a dry run writes no mark"

# --- the first scan publishes and marks each file after its confirm -----------------------
scanq --no-mime --json "$R"
expect_rc 0 "first scan"
expect_eq "$(summary published)" 6 "first scan publishes every file"
expect_eq "$(count)" 6 "one message per file"
expect_eq "$(marks "$R")" "6 6" "every confirmed file is marked"
id=$("$PY3" -c 'import os, sys
sys.path.insert(0, sys.argv[1])
import msgid
root = os.path.realpath(sys.argv[2]).encode()
st = os.lstat(sys.argv[2] + "/f1.txt")
print(msgid.file_id(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, root, b"f1.txt"))' "$TESTS_DIR" "$R")
expect_re out '"already_queued":0' "first scan: nothing already queued"
m=$(mark_of "$R/f1.txt")
checks=$((checks + 1))
case "$m" in
    [0-9a-f]*,[0-9]*) ;;
    *) fail "the mark is <32 hex>,<unix time>: got '$m'" ;;
esac
expect_eq "${m%%,*}" "$id" "the mark holds the message id"

# --- later scans publish nothing while the messages wait ----------------------------------
for i in 1 2 3; do
    scanq --no-mime --json "$R"
    expect_rc 0 "rescan $i"
done
expect_eq "$(summary published)" 0 "a rescan publishes nothing"
expect_eq "$(summary already_queued)" 6 "a rescan reports every file already queued"
expect_eq "$(count)" 6 "still one message per file after 3 rescans"
expect_re err "^scan: notice: 6 files: 0 published, 6 already queued, 0 rejected, 0 failed in " \
    "the summary line counts them"
expect_in err "queue '$q' holds 6 messages and has no consumers" "the summary says no one consumes"
scanq --no-mime -v --rejects "$WORK/rj" "$R"
expect_eq "$(grep -c '"outcome":"queued","reason":"already-queued"' "$WORK/rj")" 6 \
    "--rejects lists the already-queued files"

# --- a changed file is published at once ---------------------------------------------------
echo "more" >>"$R/f2.txt"
scanq --no-mime --json "$R"
expect_eq "$(summary published)" 1 "a changed file is published at once"
expect_eq "$(count)" 7 "its new message joins the old one"

# --- a file moved away and back since its mark is published again -------------------------
# Its id is the same (same inode, times, root and path), but the renames gave
# it a later ctime than its mark's: it may have reached DEST meanwhile, with
# a mover killed before it removed the mark (common/mark.h).
sleep 3.2
mv "$R/f3.txt" "$WORK/f3.away"
mv "$WORK/f3.away" "$R/f3.txt"
scanq --no-mime --json "$R"
expect_eq "$(summary published)" 1 "a file moved away and back is published again"
expect_eq "$(summary already_queued)" 5 "the others are still queued"

# --- --requeue-after: 0 publishes everything again; a short one expires ---------------------
scanq --no-mime --json --requeue-after 0 "$R"
expect_eq "$(summary published)" 6 "--requeue-after 0 publishes everything again"
sleep 2.2
scanq --no-mime --json --requeue-after 2s "$R"
expect_eq "$(summary published)" 6 "marks older than --requeue-after are published again"
scanq --no-mime --json --requeue-after 1h "$R"
expect_eq "$(summary published)" 0 "and marked again"

# --- the mover removes the mark on arrival --------------------------------------------------
mkdir "$WORK/dest"
run env AMQP_URL="$url" timeout 60 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" \
    --to "$WORK/dest" --idle-exit 1s
expect_eq "$(marks "$WORK/dest")" "0 6" "moved files carry no mark"
expect_eq "$(nfiles "$R")" 0 "every file moved"

# --- a file the mover skips (--on-conflict skip) loses its mark -----------------------------
# Its message is acknowledged and none waits for it: the next scan tries again.
mkdir -p "$WORK/sk" "$WORK/skd"
echo mine >"$WORK/sk/a.txt"
echo theirs >"$WORK/skd/a.txt"
scanq --no-mime "$WORK/sk"
expect_eq "$(marks "$WORK/sk")" "1 1" "skip: marked once published"
run env AMQP_URL="$url" timeout 60 "$MOVE" --queue "$q" --exchange "$ex" --from "$WORK/sk" \
    --to "$WORK/skd" --on-conflict skip --idle-exit 1s
expect_eq "$(marks "$WORK/sk")" "0 1" "skip: the skipped file is no longer marked"
scanq --no-mime --json "$WORK/sk"
expect_eq "$(summary published)" 1 "skip: the next scan publishes it again"

# --- a mark that cannot be written is counted, and the scan succeeds -----------------------
W=$WORK/ro
mkdir -p "$W"
echo a >"$W/a.txt"
echo b >"$W/b.txt"
chmod 755 "$W"
chmod 444 "$W"/*.txt
if can_be_nobody; then
    chmod 755 "$WORK"
    run env AMQP_URL="$url" "${AS_NOBODY[@]}" \
        "$SCAN" --queue "$q" --exchange "$ex" --no-mime --json "$W"
    expect_rc 0 "a scan that cannot mark still exits 0"
    expect_eq "$(summary published)" 2 "and publishes"
    expect_eq "$(summary marks_failed)" 2 "the marks it could not write are counted"
    expect_re err "^scan: warning: could not mark 2 published files as queued \(.*\): the next scan publishes them again" \
        "and said once"
else
    echo "setpriv cannot drop to nobody here: unwritable marks not tested" >&2
fi

finish
