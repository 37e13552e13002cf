#!/usr/bin/env bash
# scan without a broker (--dry-run, checked by tests/scan_check.py):
# --readable (unreadable) and unreadable directories (unreadable-dir, the
# walk goes on). As root it needs setpriv to drop CAP_DAC_OVERRIDE, else it
# is skipped (exit 77).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

# --- --readable and unreadable directories ------------------------------------
# As root, mode 000 does not stop reading: run scan without CAP_DAC_OVERRIDE
# and CAP_DAC_READ_SEARCH then (setpriv), or skip (exit 77).
nopriv_or_skip "no permission checks"
t=$WORK/t7
r=$(realpath -m "$t")
mk "$t/ok" "$t/locked"
chmod 000 "$t/locked"
dry --readable "$t"
expect_rc 0 "--readable"
outcomes "--readable rejects a file it cannot open" "$r" ok published locked rejected:unreadable
dry --readable --mime 'image/*' "$t"
outcomes "unreadable is checked before the type" "$r" ok rejected:mime-not-allowed \
    locked rejected:unreadable
dry --no-mime "$t"
outcomes "without --readable and MIME detection an unreadable file is published" "$r" \
    ok published locked published
dry "$t"
pycheck "without --readable, an unreadable file still gets exactly one outcome" \
    summary true "$WORK/out" "$WORK/rej"
chmod 644 "$t/locked"

t=$WORK/t7b
r=$(realpath -m "$t")
mk "$t/ok" "$t/closed/inner" "$t/zz/after"
chmod 000 "$t/closed"
dry "$t"
expect_rc 1 "an unreadable directory fails the run"
outcomes "unreadable-dir reported once, the walk goes on" "$r" ok published \
    closed failed:unreadable-dir zz/after published
expect_re err '^scan: notice: 3 files: 2 would be published, 0 rejected, 1 failed in ' \
    "summary line counts the failed directory"
chmod 755 "$t/closed"
PFX=()

finish
