#!/usr/bin/env bash
# Fault: files change between scan and move (issue 5, scenario 4).
#
# After the scan, files are appended to, replaced (a new inode), deleted
# and renamed, and a directory is replaced by a symlink to a directory
# outside the root holding a decoy of the same name (the race that
# symlink-following code loses). Each message ends dead-lettered with its
# documented reason, the untouched file moves, and nothing outside the root
# changes.
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
AUDIT=$TESTS_DIR/audit.sh
umask 022

. "$TESTS_DIR/faults/faults.sh"
PY=$TESTS_DIR/move_util.py # for pycheck and jnum
q=faults-changes-$tag
ex=faults-changes-ex-$tag
declared+=("$q")

R=$WORK/root
D=$WORK/dest
O=$WORK/outside
mkdir -p "$R/sub" "$D" "$O"
for f in appended replaced deleted renamed same; do echo "the $f file" >"$R/$f.txt"; done
echo "the file in sub" >"$R/sub/inner.txt"
echo "a decoy outside the root" >"$O/inner.txt"
"$AUDIT" snapshot "$R" >"$WORK/root.manifest"
"$AUDIT" snapshot "$O" >"$WORK/outside.manifest"

run env AMQP_URL="$url" timeout 60 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q "$R"
expect_rc 0 "scan"

# The changes, between scan and move.
echo "more" >>"$R/appended.txt"
"$PY3" "$PY" replace "$R/replaced.txt"
rm "$R/deleted.txt"
mv "$R/renamed.txt" "$R/renamed-later.txt"
mv "$R/sub" "$R/sub.old"
ln -s "$O" "$R/sub"

run env AMQP_URL="$url" timeout 60 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
    --idle-exit 2s --json
expect_rc 1 "move (1: it dead-lettered)"
pycheck "move: --json summary" jcheck "$WORK/out" moved=1 dead_lettered=5 \
    'dead_by_reason={"changed":2,"vanished":2,"symlink":1}'
"$PY3" "$AMQP" get "$url" "$q.dead" 100 "$WORK/dead" >/dev/null
"$PY3" - "$WORK/dead" >"$WORK/reasons" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    body = json.loads(m["body"])
    print(body["path"], m.get("headers", {}).get("x-scanmove-reason"))
EOF
expect_eq "$(sort "$WORK/reasons" | tr '\n' ' ')" \
    "appended.txt changed deleted.txt vanished renamed.txt vanished replaced.txt changed sub/inner.txt symlink " \
    "each changed file dead-lettered with its reason"
run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" \
    --manifest "$WORK/root.manifest" --outside "$O=$WORK/outside.manifest" \
    --ignore appended.txt --ignore replaced.txt --ignore deleted.txt --ignore renamed.txt \
    --ignore renamed-later.txt --ignore sub --ignore sub/inner.txt --ignore sub.old \
    --ignore sub.old/inner.txt
expect_rc 0 "the audit passes (the changed files aside; outside unchanged)"
expect_eq "$(find "$D" -type f | sed "s|^$D/||" | sort | tr '\n' ' ')" "same.txt " \
    "only the unchanged file reached DEST"
expect_eq "$(cat "$R/appended.txt")" "the appended file
more" "the appended file stays as it is"
expect_eq "$(cat "$R/renamed-later.txt")" "the renamed file" "the renamed file stays"
expect_eq "$(cat "$R/sub.old/inner.txt")" "the file in sub" "the file of the swapped directory stays"
expect_eq "$(readlink "$R/sub")" "$O" "the symlink stays"

finish
