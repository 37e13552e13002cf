#!/usr/bin/env bash
# move refuses, before connecting, a setup that could only dead-letter or
# loop, with one sentence naming the option and the directory (docs/move.1,
# EXIT STATUS): a missing --to or one on a read-only file system (73), a --to
# or --from root this user may not write (77; a missing root stays 66), and
# a --to inside a --from root that scan walks (64; a hidden one is fine).
# Before issue 11 each of these started, dead-lettered every file and exited
# 0, or moved files into ROOT/done/done/... on every cron cycle. No broker is
# needed: a setup that is accepted gets as far as the closed port (69).
# The permission checks run as nobody (through setpriv, as root); the
# read-only and bind-mount checks need a private mount namespace. Checks that
# cannot run here are skipped with a word, the others still run.
. "$(dirname "$0")/../lib.sh"

NOBROKER=(--url "amqp://127.0.0.1:$(free_port)/" --reconnect-timeout 1s)
R=$WORK/r
mkdir -p "$R/sub/.done" "$R/.done/x" "$R/done" "$WORK/dest" "$WORK/ro"
echo f >"$WORK/file"
ln -s r "$WORK/rlink"

# refused STATUS WHAT SENTENCE ARGS... : move ARGS... exits STATUS with
# "move: SENTENCE" as its first line of stderr (a usage error adds the hint
# "Try 'move --help'."), nothing else, and nothing on stdout.
refused() {
    local status=$1 what=$2 sentence=$3 lines=1
    shift 3
    run timeout 30 "${AS[@]}" "$MOVE" "${NOBROKER[@]}" "$@"
    expect_rc "$status" "$what"
    expect_eq "$(head -n 1 "$WORK/err")" "move: error: $sentence" "$what: the sentence"
    if [ "$status" -eq 64 ]; then
        expect_in err "Try 'move --help'." "$what: the hint"
        lines=2
    fi
    expect_lines err "$lines" "$what: one sentence"
    expect_lines out 0 "$what: nothing on stdout"
}

# accepted WHAT ARGS... : move ARGS... gets as far as the broker.
accepted() {
    local what=$1
    shift
    run timeout 30 "${AS[@]}" "$MOVE" "${NOBROKER[@]}" "$@"
    expect_rc 69 "$what: reaches the broker"
}

AS=()
# --- what does not exist ------------------------------------------------------
refused 73 "a missing --to" "--to $WORK/none: No such file or directory" \
    --from "$R" --to "$WORK/none"
refused 73 "a --to that is a file" "--to $WORK/file: not a directory" \
    --from "$R" --to "$WORK/file"
refused 66 "a missing --from" "--from $WORK/none: No such file or directory" \
    --from "$WORK/none" --to "$WORK/dest"
refused 66 "a missing second --from" "--from $WORK/none: No such file or directory" \
    --from "$R" --from "$WORK/none" --to "$WORK/dest"

# --- --to inside a root -------------------------------------------------------
inside="which scan walks: moved files would come back and be moved again"
refused 64 "--to inside --from" \
    "--to $R/done is inside --from $R, $inside, into $R/done/done/...; use a hidden directory, such as $R/.done" \
    --from "$R" --to "$R/done"
refused 64 "--to inside the second --from" \
    "--to $R/done is inside --from $WORK/rlink, $inside, into $R/done/done/...; use a hidden directory, such as $R/.done" \
    --from "$WORK/dest" --from "$WORK/rlink" --to "$R/done"
refused 64 "--to inside --from, named through a symlink" \
    "--to $WORK/rlink/done is inside --from $R, $inside, into $WORK/rlink/done/done/...; use a hidden directory, such as $R/.done" \
    --from "$R" --to "$WORK/rlink/done"
refused 64 "--to the same as --from" "--to is the same directory as --from $R" \
    --from "$R" --to "$WORK/rlink/"
accepted "--to a hidden directory inside --from" --from "$R" --to "$R/.done"
accepted "--to beneath a hidden directory inside --from" --from "$R" --to "$R/.done/x"
accepted "--to a hidden directory deeper inside --from" --from "$R" --to "$R/sub/.done"
accepted "a --from inside --to" --from "$R/sub" --to "$R"
mkdir -p "$WORK/r-done"
accepted "a --to whose name only starts like a root's" --from "$R" --to "$WORK/r-done"

# --- read-only file systems (a private mount namespace) -----------------------
# inns CMD... : CMD in a private mount namespace where $WORK/ro is a read-only tmpfs.
inns() {
    # shellcheck disable=SC2016 # $1 is expanded by the inner sh
    run unshare -m sh -c 'mount -t tmpfs -o ro tmpfs "$1" && shift && exec "$@"' sh \
        "$WORK/ro" timeout 30 "$@"
}
# shellcheck disable=SC2016 # $1 is expanded by the inner sh
if unshare -m sh -c 'mount -t tmpfs -o ro tmpfs "$1"' sh "$WORK/ro" 2>/dev/null; then
    inns "$MOVE" "${NOBROKER[@]}" --from "$R" --to "$WORK/ro"
    expect_rc 73 "--to on a read-only file system"
    expect_eq "$(cat "$WORK/err")" \
        "move: error: --to $WORK/ro is on a read-only file system: no file can be moved into it" \
        "--to on a read-only file system: the sentence"
    inns "$MOVE" "${NOBROKER[@]}" --from "$WORK/ro" --to "$WORK/dest"
    expect_rc 77 "--from on a read-only file system"
    expect_eq "$(cat "$WORK/err")" \
        "move: error: --from $WORK/ro is on a read-only file system: no file can be moved out of it" \
        "--from on a read-only file system: the sentence"
    # A bind mount of the root: --to inside it, under another name.
    mkdir "$WORK/bind"
    # shellcheck disable=SC2016 # $1 and $2 are expanded by the inner sh
    run unshare -m sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$R" "$WORK/bind" \
        timeout 30 "$MOVE" "${NOBROKER[@]}" --from "$R" --to "$WORK/bind/done"
    expect_rc 64 "--to inside a bind mount of --from"
    expect_in err "move: error: --to $WORK/bind/done is inside --from $R, $inside" \
        "--to inside a bind mount of --from: the sentence"
else
    echo "SKIP: no private mount namespace here: read-only and bind-mount checks not run" >&2
fi

# --- permissions, as nobody ---------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: not root: the permission checks need to run as nobody" >&2
    finish
    exit
fi
command -v setpriv >/dev/null || skip "setpriv is not installed: cannot check permissions"
AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
"${AS[@]}" true || skip "setpriv cannot run a command as nobody:nogroup"
chmod 711 "$WORK"
if ! "${AS[@]}" test -x "$MOVE"; then
    mkdir -m 755 "$WORK/bin"
    cp "$MOVE" "$WORK/bin/move"
    MOVE=$WORK/bin/move
fi
mkdir -m 777 "$WORK/win" "$WORK/wout"
mkdir -m 755 "$WORK/rootonly" # root's: nobody may read and search, not write
mkdir -m 777 "$WORK/sticky"
chmod +t "$WORK/sticky"
no_write="Permission denied: user 'nobody' may not write there, so no file can be moved"
accepted "as nobody: a writable root and --to" --from "$WORK/win" --to "$WORK/wout"
accepted "as nobody: a sticky --to (files are created, not removed)" --from "$WORK/win" \
    --to "$WORK/sticky"
refused 77 "as nobody: --to not writable" "--to $WORK/rootonly: $no_write into it" \
    --from "$WORK/win" --to "$WORK/rootonly"
refused 77 "as nobody: --from not writable" "--from $WORK/rootonly: $no_write out of it" \
    --from "$WORK/win" --from "$WORK/rootonly" --to "$WORK/wout"
chmod 777 "$WORK/rootonly"
chown nobody "$WORK/rootonly"
chmod u-w "$WORK/rootonly"
refused 77 "as nobody: its own --to without write permission" \
    "--to $WORK/rootonly: $no_write into it" --from "$WORK/win" --to "$WORK/rootonly"
chmod 700 "$WORK/rootonly"
chown root "$WORK/rootonly"
refused 77 "as nobody: --to not searchable" "--to $WORK/rootonly: Permission denied" \
    --from "$WORK/win" --to "$WORK/rootonly"

finish
