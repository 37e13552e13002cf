#!/usr/bin/env bash
# scan without a broker (--dry-run, checked by tests/scan_check.py):
# hidden files and directories: rejected (hidden) unless --hidden.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

# --- hidden -----------------------------------------------------------------
t=$WORK/t2
mk "$t/vis" "$t/.hid" "$t/.hdir/inner" "$t/sub/.deep" "$t/sub/ok"
dry "$t"
expect_rc 0 "hidden entries"
outcomes "hidden file and directory rejected, the directory once" "$(realpath "$t")" \
    vis published sub/ok published .hid rejected:hidden .hdir rejected:hidden \
    sub/.deep rejected:hidden
expect_re err '^scan: notice: 5 files: 2 would be published, 3 rejected, 0 failed in ' \
    "summary line counts rejected entries"
dry --hidden "$t"
expect_rc 0 "--hidden"
outcomes "--hidden includes them" "$(realpath "$t")" vis published sub/ok published \
    .hid published .hdir/inner published sub/.deep published
# A hidden DIR named on the command line is scanned: the rule is for entries.
mk "$WORK/.t2root/f"
dry "$WORK/.t2root"
outcomes "a hidden DIR itself is scanned" "$(realpath "$WORK/.t2root")" f published
# -v: one line per rejected entry, plus the summary.
run "$SCAN" --dry-run -v "$t"
expect_rc 0 "-v"
expect_lines err 4 "-v prints one line per rejected entry and the summary"
expect_in err ".hdir" "-v names the rejected directory"
expect_in err "hidden" "-v gives the reason"
# -q: nothing on stderr for a clean run, data still on stdout.
run "$SCAN" --dry-run -q --json "$t"
expect_rc 0 "-q"
expect_lines err 0 "-q prints nothing on stderr"
expect_lines out 3 "-q still prints the messages and --json"

finish
