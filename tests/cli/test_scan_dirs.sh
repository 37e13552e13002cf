#!/usr/bin/env bash
# scan without a broker (--dry-run, checked by tests/scan_check.py):
# empty, missing and wrong DIRs: exit statuses and sentences.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

mk "$WORK/t1/a.txt" "$WORK/t1/sub/b.txt"

# --- empty, missing and wrong DIRs ------------------------------------------------
mkdir "$WORK/empty"
dry "$WORK/empty"
expect_rc 0 "empty directory"
expect_lines out 1 "empty directory: only the summary"
expect_eq "$("$PY3" "$PY" get "$WORK/out" files)" 0 "empty directory: 0 files"
expect_re err '^scan: notice: 0 files: 0 would be published, 0 rejected, 0 failed in ' "empty directory summary line"
checks=$((checks + 1))
[ -s "$WORK/rej" ] && fail "empty directory: --rejects file not empty"

run "$SCAN" --dry-run "$WORK/nope"
expect_rc 66 "missing DIR"
expect_eq "$(cat "$WORK/err")" "scan: error: $WORK/nope: No such file or directory" "missing DIR message"
expect_lines out 0 "missing DIR: nothing on stdout"
run "$SCAN" --url amqp://127.0.0.1:1/ "$WORK/nope"
expect_rc 66 "missing DIR is found before connecting"
run "$SCAN" --dry-run "$WORK/t1/a.txt"
expect_rc 66 "DIR is a file"
expect_eq "$(cat "$WORK/err")" "scan: error: $WORK/t1/a.txt: not a directory" "DIR is a file message"
run "$SCAN" --dry-run "$WORK/t1" "$WORK/nope"
expect_rc 66 "one good DIR, one missing"
expect_lines out 0 "all DIRs are checked before scanning"
run "$SCAN" --url amqp://127.0.0.1:1/ "$WORK/t1"
expect_rc 69 "no broker without --dry-run"
expect_lines out 0 "no broker: nothing on stdout"

finish
