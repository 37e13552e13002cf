#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1 and docs/message-format.md):
# the four --on-conflict policies (rename, skip, fail, overwrite) when DEST
# holds files at the same paths.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

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
expect_rc 1 "fail (1: one was dead-lettered)"
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
pycheck "fail: dead-lettered as exists" checkdead "$WORK/dead" "$WORK/expect" "$ex.dlx" "$q"

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

finish
