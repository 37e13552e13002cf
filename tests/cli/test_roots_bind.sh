#!/usr/bin/env bash
# Directories that overlap through a bind mount: the same directory under
# another path that no symlink explains. scan's DIRs and move's --from roots
# are compared by device and inode, of each directory and of each one above
# it, so this is refused with status 64 too (see test_roots.sh for the other
# spellings). Needs a private mount namespace; exits 77 where there is none.
. "$(dirname "$0")/../lib.sh"

NOBROKER=(--url amqp://127.0.0.1:1/)
MOVE_NOBROKER=(--url amqp://127.0.0.1:1/ --reconnect-timeout 1s)
R=$WORK/r
mkdir -p "$R/in/deep" "$WORK/dest"
echo a >"$R/a"
echo b >"$R/in/b"

# --- bind mounts --------------------------------------------------------------
# The same directory under another path that no symlink explains: compared by
# device and inode, of each directory and of each one above it.
mkdir "$WORK/bind"
# shellcheck disable=SC2016 # $1 is expanded by the inner sh
unshare -m sh -c 'mount --bind "$1" "$2"' sh "$R" "$WORK/bind" 2>/dev/null ||
    skip "cannot bind-mount in a private mount namespace here"
# inbind CMD... : CMD in a private mount namespace where $WORK/bind is $R.
inbind() {
    # shellcheck disable=SC2016 # $1 and $2 are expanded by the inner sh
    run unshare -m sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
        "$R" "$WORK/bind" timeout 30 "$@"
}
inbind "$SCAN" --dry-run "$R" "$WORK/bind"
expect_rc 64 "scan: a bind mount of a DIR"
expect_in err "scan: error: $R and $WORK/bind are the same directory: give each directory once" \
    "scan: a bind mount of a DIR: the sentence"
inbind "$SCAN" --dry-run "$WORK/bind/in" "$R"
expect_rc 64 "scan: inside a bind mount of a DIR"
expect_in err "scan: error: $WORK/bind/in is inside $R: give each directory once" \
    "scan: inside a bind mount of a DIR: the sentence"
inbind "$SCAN" "${NOBROKER[@]}" "$WORK/bind" "$R/in"
expect_rc 64 "scan: a DIR inside, the other through a bind mount"
expect_in err "scan: error: $R/in is inside $WORK/bind: give each directory once" \
    "scan: a DIR inside, the other through a bind mount: the sentence"
inbind "$MOVE" "${MOVE_NOBROKER[@]}" --from "$WORK/bind/in" --from "$R" --to "$WORK/dest"
expect_rc 64 "move: a root inside a bind mount of another"
expect_in err "move: error: --from $WORK/bind/in is inside --from $R: give each root once" \
    "move: a root inside a bind mount of another: the sentence"

finish
