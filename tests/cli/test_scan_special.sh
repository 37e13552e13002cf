#!/usr/bin/env bash
# scan without a broker (--dry-run, checked by tests/scan_check.py):
# symlinks are rejected, never followed, and special files (FIFO, socket,
# device) never opened, whatever the rules.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

# --- symlinks and special files -----------------------------------------------
t=$WORK/t9
r=$(realpath -m "$t")
mk "$WORK/outside/secret" "$t/real"
ln -s real "$t/lnk"
ln -s ../outside "$t/dlnk"
ln -s nowhere "$t/dangling"
mkfifo "$t/fifo"
expect_special=(fifo rejected:not-regular)
if [ ${#t} -lt 90 ] && "$PY3" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$t/sock"; then
    expect_special+=(sock rejected:not-regular)
else
    echo "SKIP: cannot create a socket" >&2
fi
if [ "$(id -u)" -eq 0 ] && mknod "$t/null" c 1 3 2>/dev/null; then
    expect_special+=(null rejected:not-regular)
fi
# special FLAGS... : scan $t with FLAGS; symlinks and special files are
# rejected, never followed or opened (a FIFO would block), whatever the rules.
special() {
    rm -f "$WORK/rej"
    run timeout 20 "$SCAN" --dry-run --json --rejects "$WORK/rej" "$@" "$t"
    checks=$((checks + 1))
    [ "$rc" -ne 124 ] || fail "scan $* hangs on a FIFO"
    expect_rc 0 "symlinks and special files ($*)"
    outcomes "symlinks are not followed, special files not opened ($*)" "$r" \
        real published lnk rejected:symlink dlnk rejected:symlink dangling rejected:symlink \
        "${expect_special[@]}"
    pycheck "summary with special files ($*)" summary true "$WORK/out" "$WORK/rej"
}
special
special --hidden --readable --mime 'text/*'

finish
