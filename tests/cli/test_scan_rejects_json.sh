#!/usr/bin/env bash
# scan without a broker (--dry-run, checked by tests/scan_check.py):
# --rejects (to a file or stdout) and --json, and their errors.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

mk "$WORK/t1/a.txt" "$WORK/t1/sub/b.txt"

mk "$WORK/t2/vis" "$WORK/t2/.hid" "$WORK/t2/.hdir/inner" "$WORK/t2/sub/.deep" "$WORK/t2/sub/ok"

# --- --rejects and --json -----------------------------------------------------------
run "$SCAN" --dry-run --json --rejects - "$WORK/t2"
expect_rc 0 "--rejects -"
: >"$WORK/rej"
outcomes "--rejects - writes the reject lines to stdout" "$(realpath "$WORK/t2")" \
    vis published sub/ok published .hid rejected:hidden .hdir rejected:hidden \
    sub/.deep rejected:hidden
pycheck "--rejects - summary" summary true "$WORK/out"
expect_in out '"outcome":"rejected"' "reject lines carry the outcome"
expect_in out '"reason":"hidden"' "reject lines carry the reason"
run "$SCAN" --dry-run --rejects "$WORK/no-such-dir/rej" "$WORK/t1"
checks=$((checks + 1))
[ "$rc" -ne 0 ] || fail "--rejects into a missing directory succeeded"
expect_in err "$WORK/no-such-dir/rej" "--rejects error names the file"

# Every entry gets exactly one outcome, in a bigger mixed tree.
t=$WORK/t14
"$PY3" - "$t" <<'EOF'
import os, sys
t = sys.argv[1]
for i in range(300):
    d = os.path.join(t, "d%d" % (i % 7), "e%d" % (i % 3))
    os.makedirs(d, exist_ok=True)
    name = {0: ".h%d" % i, 1: "f%d.tmp" % i}.get(i % 10, "f%d.dat" % i)
    with open(os.path.join(d, name), "w") as f:
        f.write("" if i % 10 == 2 else "x" * i)
EOF
dry --min-size 1 --exclude '*.tmp' -j 4 "$t"
expect_rc 0 "mixed tree"
expect_eq "$("$PY3" "$PY" get "$WORK/out" published)" 210 "mixed tree: published"
expect_eq "$("$PY3" "$PY" get "$WORK/out" rejected)" 90 "mixed tree: rejected"
expect_eq "$("$PY3" "$PY" get "$WORK/out" rejected_by_reason)" \
    '{"excluded": 30, "hidden": 30, "too-small": 30}' "mixed tree: rejected_by_reason"
checks=$((checks + 1))
n_lines=$(($(wc -l <"$WORK/rej") + $("$PY3" "$PY" get "$WORK/out" published)))
[ "$n_lines" -eq "$("$PY3" "$PY" get "$WORK/out" files)" ] ||
    fail "mixed tree: --rejects lines + published ($n_lines) != files"

finish
