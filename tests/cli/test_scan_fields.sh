#!/usr/bin/env bash
# scan without a broker (--dry-run, checked by tests/scan_check.py):
# --help, and the message fields of every file against the file on disk
# (lstat, the id of docs/message-format.md), from any spelling of DIR.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

# --help lists the new options.
run "$SCAN" --help
expect_rc 0 "scan --help"
expect_in out "DIR" "scan --help shows DIR"
for o in --max-depth --one-file-system --hidden --include --exclude --min-size --max-size \
    --min-age --max-age --mime --no-mime --readable --rejects --json --dry-run --jobs \
    --confirm-window --reconnect-timeout --blocked-timeout --check; do
    expect_in out "$o" "scan --help lists $o"
done


# --- message fields ---------------------------------------------------------
t=$WORK/t1
mk "$t/a.txt" "$t/sub/b.txt"
touch -d @1577934245.123456789 "$t/sub/b.txt"
troot=$(realpath "$t")
dry "$t/sub/.."
expect_rc 0 "plain tree"
outcomes "plain tree" "$troot" a.txt published sub/b.txt published
pycheck "default run puts the MIME type in every message" checkmsg present "$WORK/out"
expect_lines out 3 "two messages and the summary on stdout"
expect_eq "$(field sub/b.txt root)" "$troot" "root is the realpath of DIR"
expect_eq "$(field sub/b.txt mtime)" "1577934245.123456789" "mtime with nine fraction digits"
expect_eq "$(field sub/b.txt size)" "$(stat -c %s "$t/sub/b.txt")" "size"
expect_eq "$(field sub/b.txt dev)" "$(stat -c %d "$t/sub/b.txt")" "dev as a string equals stat %d"
expect_eq "$(field sub/b.txt ino)" "$(stat -c %i "$t/sub/b.txt")" "ino as a string equals stat %i"
expect_eq "$(field sub/b.txt mode)" "$((16#$(stat -c %f "$t/sub/b.txt")))" "mode with type bits"
expect_eq "$(field sub/b.txt uid)" "$(stat -c %u "$t/sub/b.txt")" "uid"
expect_eq "$(field sub/b.txt gid)" "$(stat -c %g "$t/sub/b.txt")" "gid"
expect_eq "$(field a.txt mime)" "text/plain" "mime of a text file"
checks=$((checks + 1))
field a.txt id | grep -Eqx '[0-9a-f]{32}' || fail "id is not 32 hex digits: $(field a.txt id)"
checks=$((checks + 1))
grep -q '^{"v":1,' "$WORK/out" || fail "messages are compact JSON starting with \"v\":1"
expect_eq "$("$PY3" "$PY" get "$WORK/out" files)" 2 "summary files"
expect_eq "$("$PY3" "$PY" get "$WORK/out" dry_run)" true "summary dry_run"
# The summary line, on stderr; no progress line when stderr is not a tty.
expect_lines err 1 "one summary line on stderr"
expect_re err '^scan: notice: 2 files: 2 would be published, 0 rejected, 0 failed in [0-9]+\.[0-9]{2} s \([0-9]+ files/s\)$' \
    "summary line format"
checks=$((checks + 1))
grep -q $'\r' "$WORK/err" && fail "progress line (\\r) written although stderr is not a terminal"
ids1=$("$PY3" "$PY" ids "$WORK/out")
# The same unchanged files get the same ids, whatever the thread count.
dry -j 1 "$t"
expect_rc 0 "-j 1"
expect_eq "$("$PY3" "$PY" ids "$WORK/out")" "$ids1" "same ids with -j 1"
dry --jobs 256 "$t"
expect_rc 0 "-j 256"
expect_eq "$("$PY3" "$PY" ids "$WORK/out")" "$ids1" "same ids with --jobs 256"
run env SCANMOVE_JOBS=3 "$SCAN" --dry-run "$t"
expect_rc 0 "SCANMOVE_JOBS=3"
expect_lines out 2 "SCANMOVE_JOBS=3 prints both messages"
# "." as DIR: root is still absolute, paths have no "./", and "." is not hidden.
rm -f "$WORK/rej"
run env -C "$t" "$SCAN" --dry-run --json --rejects "$WORK/rej" .
expect_rc 0 "scan ."
outcomes "scan . gives clean relative paths" "$troot" a.txt published sub/b.txt published
# No broker is needed for a dry run.
run "$SCAN" --dry-run --url amqp://127.0.0.1:1/ "$t"
expect_rc 0 "--dry-run connects to no broker"
expect_lines out 2 "--dry-run without --json prints the messages only"

# Several DIRs, each with its own root; a DIR that is a symlink is followed.
# (The same directory twice, or one inside another, is refused: test_roots.sh.)
mk "$WORK/t1b/other.txt" "$WORK/t1c/third.txt"
ln -s t1c "$WORK/t1clink"
dry "$t" "$WORK/t1b" "$WORK/t1clink"
expect_rc 0 "several DIRs"
expect_eq "$("$PY3" "$PY" roots "$WORK/out")" \
    "$troot"$'\n'"$(realpath "$WORK/t1b")"$'\n'"$(realpath "$WORK/t1c")" \
    "each DIR is a root; the symlinked DIR resolves to its target"
expect_eq "$("$PY3" "$PY" get "$WORK/out" published)" 4 "several DIRs: 2 + 1 + 1 messages"

finish
