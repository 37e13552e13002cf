#!/usr/bin/env bash
# The man pages and --help tell the same story: every long option that
# `--help` lists is documented in docs/TOOL.1 and the other way round, and
# the defaults --help states appear in the man page too.
. "$(dirname "$0")/../lib.sh"

# long_opts FILE : the --long-options named in FILE, one per line, sorted
# (man page escapes "\-" read as "-").
long_opts() {
    sed 's/\\-/-/g' "$1" | grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u
}

for tool in scan move; do
    bin=$SCAN
    [ "$tool" = move ] && bin=$MOVE
    man=$SOURCE_DIR/docs/$tool.1
    run "$bin" --help
    expect_rc 0 "$tool --help"
    long_opts "$WORK/out" >"$WORK/help.opts"
    long_opts "$man" >"$WORK/man.opts"
    checks=$((checks + 1))
    missing=$(comm -23 "$WORK/help.opts" "$WORK/man.opts" | tr '\n' ' ')
    [ -z "$missing" ] || fail "$tool: in --help but not in $tool.1: $missing"
    checks=$((checks + 1))
    # The man page may name the other tool's options when it refers to it.
    other=scan
    [ "$tool" = scan ] && other=move
    other_bin=$SCAN
    [ "$other" = move ] && other_bin=$MOVE
    "$other_bin" --help >"$WORK/other.help"
    long_opts "$WORK/other.help" >"$WORK/other.opts"
    extra=$(comm -13 "$WORK/help.opts" "$WORK/man.opts" | comm -23 - "$WORK/other.opts" | tr '\n' ' ')
    [ -z "$extra" ] || fail "$tool: in $tool.1 but in neither tool's --help: $extra"
    # A number with its unit as "(default X)" in --help is "default X" in
    # the man page too (words like "quorum" are worded differently there).
    tr '\n' ' ' <"$man" | sed 's/\\-/-/g; s/\\f[BIR]//g; s/^\.[A-Z]* //; s/ \.[A-Z]* / /g' >"$WORK/man.flat"
    grep -oE '\(default [0-9][0-9a-z]*' "$WORK/out" | sed 's/^(default //' | sort -u >"$WORK/defaults"
    while read -r d; do
        checks=$((checks + 1))
        grep -qE -- "default[ :]+$d([^0-9a-z]|\$)" "$WORK/man.flat" ||
            fail "$tool: --help says (default $d) but $tool.1 never says 'default $d'"
    done <"$WORK/defaults"
done

finish
