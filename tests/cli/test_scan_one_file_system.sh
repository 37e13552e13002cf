#!/usr/bin/env bash
# scan --one-file-system without a broker (--dry-run): a mount point below
# DIR is reported once, rejected as other-filesystem, and walked without the
# option. The mount is a tmpfs in a private mount namespace: skipped (exit
# 77) where none can be mounted.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

# --- --one-file-system ----------------------------------------------------------
t=$WORK/t12
r=$(realpath -m "$t")
mk "$t/top"
mkdir "$t/mnt"
# shellcheck disable=SC2016 # $1 is expanded by the inner sh
unshare -m sh -c 'mount -t tmpfs tmpfs "$1"' sh "$t/mnt" 2>/dev/null ||
    skip "cannot mount a tmpfs in a private mount namespace: no --one-file-system check"
# In a private mount namespace: a tmpfs on $t/mnt with one file.
inns() {
    rm -f "$WORK/rej"
    # shellcheck disable=SC2016 # $1 is expanded by the inner sh
    run unshare -m sh -c 'mount -t tmpfs tmpfs "$1/mnt" && echo x >"$1/mnt/inner" &&
        shift && exec "$@"' sh "$t" "$SCAN" --dry-run --json --rejects "$WORK/rej" "$@"
}
inns --one-file-system "$t"
expect_rc 0 "--one-file-system"
outcomes "--one-file-system reports the mount point once" "$r" top published \
    mnt rejected:other-filesystem
pycheck "summary with --one-file-system" summary true "$WORK/out" "$WORK/rej"
inns "$t"
outcomes "without --one-file-system the mount is walked" "$r" top published mnt/inner published

finish
