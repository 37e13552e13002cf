#!/usr/bin/env bash
# scan without a broker (--dry-run, checked by tests/scan_check.py):
# --include and --exclude patterns (excluded).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

# --- include / exclude ------------------------------------------------------
t=$WORK/t3
r=$(realpath -m "$t")
mk "$t/a.pdf" "$t/d.txt" "$t/sub/b.pdf" "$t/sub/c.txt" "$t/sub/deeper/e.pdf" "$t/.x.pdf"
dry --include '*.pdf' "$t"
expect_rc 0 "--include"
outcomes "--include '*.pdf' (a '*' also matches '/')" "$r" a.pdf published sub/b.pdf published \
    sub/deeper/e.pdf published d.txt rejected:excluded sub/c.txt rejected:excluded \
    .x.pdf rejected:hidden
dry --include '*.pdf' --exclude 'sub/*' "$t"
outcomes "--exclude wins over --include" "$r" a.pdf published sub/b.pdf rejected:excluded \
    sub/deeper/e.pdf rejected:excluded d.txt rejected:excluded sub/c.txt rejected:excluded \
    .x.pdf rejected:hidden
dry --include '*.pdf' --include 'sub/c.*' "$t"
outcomes "--include is repeatable" "$r" a.pdf published sub/b.pdf published \
    sub/deeper/e.pdf published d.txt rejected:excluded sub/c.txt published .x.pdf rejected:hidden
dry --exclude '*.txt' --exclude 'sub/deeper/*' "$t"
outcomes "--exclude is repeatable" "$r" a.pdf published sub/b.pdf published \
    sub/deeper/e.pdf rejected:excluded d.txt rejected:excluded sub/c.txt rejected:excluded \
    .x.pdf rejected:hidden
dry --exclude sub --exclude 'sub/deeper' "$t"
outcomes "--exclude applies to files only, directories are still walked" "$r" a.pdf published \
    sub/b.pdf published sub/deeper/e.pdf published d.txt published sub/c.txt published \
    .x.pdf rejected:hidden
dry --hidden --exclude '*.pdf' "$t"
outcomes "--hidden lets an excluded hidden file be excluded" "$r" a.pdf rejected:excluded \
    sub/b.pdf rejected:excluded sub/deeper/e.pdf rejected:excluded d.txt published \
    sub/c.txt published .x.pdf rejected:excluded

finish
