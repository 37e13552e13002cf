#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1 and docs/message-format.md):
# option errors: --to equal to (or a link to) a --from, missing or wrong
# directories, bad values; --to inside a root is allowed.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

# --- option errors ---------------------------------------------------------------------
topo usage
U=$WORK/usage
mkdir -p "$U/root/sub" "$U/root2" "$U/dest"
ln -s "$U/root" "$U/rootlink"
echo x >"$U/file"
m() { run env AMQP_URL="$url" timeout 30 "$MOVE" --queue "$q" --exchange "$ex" "$@"; }
m --from "$U/root" --to "$U/root" --idle-exit 1s
expect_rc 64 "--to equal to --from"
expect_in err "move: error: --to is the same directory as --from " "--to equal to --from: sentence"
m --from "$U/root" --to "$U/root/." --idle-exit 1s
expect_rc 64 "--to ROOT/. is --from ROOT"
m --from "$U/root" --to "$U/rootlink" --idle-exit 1s
expect_rc 64 "--to a symlink to --from ROOT"
m --from "$U/root2" --from "$U/rootlink" --to "$U/root" --idle-exit 1s
expect_rc 64 "--to equal to the second --from"
m --from "$U/nope" --to "$U/dest" --idle-exit 1s
expect_rc 66 "missing --from directory"
expect_eq "$(cat "$WORK/err")" "move: error: --from $U/nope: No such file or directory" \
    "missing --from: sentence"
m --from "$U/file" --to "$U/dest" --idle-exit 1s
expect_rc 66 "--from a file"
expect_eq "$(cat "$WORK/err")" "move: error: --from $U/file: not a directory" "--from a file: sentence"
m --from "$U/root" --to "$U/nope" --idle-exit 1s
expect_rc 73 "missing --to directory" # 66 before issue 11: DEST is where files are created
m --from "$U/root" --idle-exit 1s
expect_rc 64 "no --to"
m --to "$U/dest" --idle-exit 1s
expect_rc 64 "no --from"
m --from "$U/root" --to "$U/dest" --on-conflict sometimes --idle-exit 1s
expect_rc 64 "--on-conflict sometimes"
m --from "$U/root" --to "$U/dest" --count many --idle-exit 1s
expect_rc 64 "--count many"
m --from "$U/root" --to "$U/dest" --idle-exit soon
expect_rc 64 "--idle-exit soon"
# --to inside a root is allowed (scan skips the hidden .done).
mkdir "$U/root/.done"
echo a >"$U/root/sub/a"
echo b >"$U/root/b"
scanq "$U/root"
m --from "$U/root" --to "$U/root/.done" --idle-exit 1s
expect_rc 0 "--to inside --from"
expect_summary 2 0 0 0 0 "--to inside --from"
expect_files "$U/root" "--to inside --from: files under .done" "'.done/sub/a'" "'.done/b'"

finish
