#!/usr/bin/env bash
# Directories that overlap: scan's DIRs and move's --from roots may not name
# the same directory twice, or one inside another, however they are spelled
# (trailing slash, "..", a symbolic link; bind mounts are test_roots_bind.sh).
# Either would walk, or accept, the same files under two roots: scan R R/in
# published each file of R/in twice, with two ids. Refused with status 64 and one sentence naming
# both, before connecting, so no broker is needed (and none is reachable).
. "$(dirname "$0")/../lib.sh"

NOBROKER=(--url amqp://127.0.0.1:1/)
# move keeps trying an unreachable broker unless told otherwise.
MOVE_NOBROKER=(--url amqp://127.0.0.1:1/ --reconnect-timeout 1s)
R=$WORK/r
mkdir -p "$R/in/deep" "$R/.hid" "$WORK/r2" "$WORK/r-x" "$WORK/dest"
echo a >"$R/a"
echo b >"$R/in/b"
echo c >"$R/in/deep/c"
ln -s r "$WORK/rlink"

# refused TOOL WHAT SENTENCE ARGS... : TOOL ARGS... exits 64 with the usage
# error SENTENCE, prints nothing on stdout and never tries the broker.
refused() {
    local tool=$1 what=$2 sentence=$3 bin=$SCAN
    shift 3
    [ "$tool" = move ] && bin=$MOVE
    run timeout 30 "$bin" "$@"
    expect_rc 64 "$what"
    expect_eq "$(head -n 1 "$WORK/err")" "$tool: error: $sentence" "$what: the sentence"
    expect_in err "Try '$tool --help'." "$what: the hint"
    expect_lines err 2 "$what: one sentence and the hint"
    expect_lines out 0 "$what: nothing on stdout"
}

# --- scan -------------------------------------------------------------------
refused scan "scan R R/in (dry run)" "$R/in is inside $R: give each directory once" \
    --dry-run "$R" "$R/in"
refused scan "scan R R/in (broker)" "$R/in is inside $R: give each directory once" \
    "${NOBROKER[@]}" "$R" "$R/in"
refused scan "scan R/in R" "$R/in is inside $R: give each directory once" \
    --dry-run "$R/in" "$R"
refused scan "a DIR two levels down" "$R/in/deep is inside $R: give each directory once" \
    --dry-run "$WORK/r2" "$R" "$R/in/deep"
# The rules for entries (hidden, depth, --one-file-system) do not matter:
# the check is about the DIRs named.
refused scan "a hidden DIR inside another" "$R/.hid is inside $R: give each directory once" \
    --dry-run --max-depth 1 "$R" "$R/.hid"
refused scan "/ and a DIR" "$R is inside /: give each directory once" \
    "${NOBROKER[@]}" / "$R"
refused scan "the same DIR twice" "$R and $R are the same directory: give each directory once" \
    --dry-run "$R" "$R"
refused scan "a trailing slash" "$R and $R/ are the same directory: give each directory once" \
    "${NOBROKER[@]}" "$R" "$R/"
refused scan "a symlink to a DIR" \
    "$R and $WORK/rlink are the same directory: give each directory once" \
    --dry-run "$R" "$WORK/rlink"
refused scan "'..'" "$R/in/.. and $R are the same directory: give each directory once" \
    --dry-run "$R/in/.." "$R"
refused scan "a DIR inside another through a symlink" \
    "$WORK/rlink/in is inside $R: give each directory once" --dry-run "$R" "$WORK/rlink/in"
run env -C "$R" "$SCAN" --dry-run . in
expect_rc 64 "relative DIRs"
expect_in err "scan: error: in is inside .: give each directory once" "relative DIRs: the sentence"

# Directories that only share a prefix of their names do not overlap.
rm -f "$WORK/rej"
run "$SCAN" --dry-run --json "$R" "$WORK/r2" "$WORK/r-x"
expect_rc 0 "r, r2 and r-x are three directories"
checks=$((checks + 1))
n=$(grep -c '"path"' "$WORK/out" || true)
[ "$n" -eq 3 ] || fail "r, r2 and r-x: $n messages for 3 files: $(cat "$WORK/out")"

# --- move -------------------------------------------------------------------
refused move "move --from R --from R/in" "--from $R/in is inside --from $R: give each root once" \
    "${MOVE_NOBROKER[@]}" --from "$R" --from "$R/in" --to "$WORK/dest"
refused move "move --from R/in --from R" "--from $R/in is inside --from $R: give each root once" \
    "${MOVE_NOBROKER[@]}" --from "$R/in" --from "$R" --to "$WORK/dest"
refused move "move --from R --from R" \
    "--from $R and --from $R are the same directory: give each root once" \
    "${MOVE_NOBROKER[@]}" --from "$R" --from "$R" --to "$WORK/dest"
refused move "move --from R --from a symlink to R" \
    "--from $R and --from $WORK/rlink/ are the same directory: give each root once" \
    "${MOVE_NOBROKER[@]}" --from "$R" --from "$WORK/rlink/" --to "$WORK/dest"
refused move "move: a root inside the third" \
    "--from $R/in/deep is inside --from $R: give each root once" \
    "${MOVE_NOBROKER[@]}" --from "$WORK/r2" --from "$R" --from "$R/in/deep" --to "$WORK/dest"
# Roots that do not overlap get as far as the broker; so does a --to inside
# a root, which this check leaves alone.
run timeout 30 "$MOVE" "${MOVE_NOBROKER[@]}" --from "$R" --from "$WORK/r2" \
    --from "$WORK/r-x" --to "$WORK/dest"
expect_rc 69 "move: separate roots reach the broker"
mkdir -p "$R/.done"
run timeout 30 "$MOVE" "${MOVE_NOBROKER[@]}" --from "$R" --to "$R/.done"
expect_rc 69 "move: --to inside --from reaches the broker"

finish
