#!/usr/bin/env bash
# Against the private broker: a file whose name is as long as a name can be
# (255 bytes), and whose name DEST already holds, gets a conflict name
# (--on-conflict rename, the default) that fits: the end of its stem is cut,
# never half of a UTF-8 character, and its extension kept. It is not
# dead-lettered "path-too-long" (issue 9).
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
umask 022
. "$TESTS_DIR/broker/lib.sh"
q=longnames-$$
ex=longnames-ex-$$
declared=("$q")
PY=$TESTS_DIR/move_util.py

R=$WORK/root D=$WORK/dest
mkdir -p "$R" "$D"
ascii=$(printf 'a%.0s' $(seq 1 251)).txt            # 255 bytes
utf8=$(printf '\xc3\xa9%.0s' $(seq 1 125)).txt      # 254 bytes: 125 two-byte characters
for n in "$ascii" "$utf8"; do
    echo "new" >"$R/$n"
    echo "old, already at DEST" >"$D/$n"
done
expect_eq "${#ascii}" 255 "the ASCII name is 255 characters"

run env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q "$R"
expect_rc 0 "scan"
run env AMQP_URL="$url" timeout 60 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
    --idle-exit 2s --json
expect_rc 0 "move"
pycheck "both moved under conflict names" jcheck "$WORK/out" moved=2 dead_lettered=0
# 255 - ".1.txt": a 249-byte stem; for the UTF-8 name, 248 bytes (249 would
# cut the 125th character in half).
want_ascii=$(printf 'a%.0s' $(seq 1 249)).1.txt
want_utf8=$(printf '\xc3\xa9%.0s' $(seq 1 124)).1.txt
checks=$((checks + 1))
[ "$(cat "$D/$want_ascii" 2>/dev/null)" = new ] ||
    fail "the 255-byte name's conflict copy is not at ${want_ascii:0:20}...: $(ls "$D" | cut -c1-40)"
checks=$((checks + 1))
[ "$(cat "$D/$want_utf8" 2>/dev/null)" = new ] ||
    fail "the UTF-8 name's conflict copy is not at its 254-byte name: $(ls "$D" | cut -c1-40)"
checks=$((checks + 1))
[ "$(cat "$D/$ascii")" = "old, already at DEST" ] && [ "$(cat "$D/$utf8")" = "old, already at DEST" ] ||
    fail "the files already at DEST changed"
expect_eq "$(find "$R" -type f | wc -l)" 0 "nothing left at the source"

finish
