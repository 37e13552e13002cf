#!/usr/bin/env bash
# scan without a broker (--dry-run, checked by tests/scan_check.py):
# awkward names (newlines, bytes that are not UTF-8, long paths) in
# messages and --rejects lines; path-too-long.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

# --- names --------------------------------------------------------------------
t=$WORK/t10
r=$(realpath -m "$t")
mkdir -p "$t/dir"$'\xff'
nl=$'new\nline.txt'
bad=$'\xff\xfe.bin'
for f in "with space.txt" "$nl" "-dash.txt" "$bad" 'q"uo\te.txt' $'tab\there' "café.txt" \
    "dir"$'\xff'"/inner" $'.\xe9hidden'; do
    printf 'x' >"$t/$f"
done
dry "$t"
expect_rc 0 "awkward names"
outcomes "awkward names each get their outcome" "$r" "with space.txt" published "$nl" published \
    "-dash.txt" published "$bad" published 'q"uo\te.txt' published $'tab\there' published \
    "café.txt" published "dir"$'\xff'"/inner" published $'.\xe9hidden' rejected:hidden
expect_eq "$(field "$nl" path)" "$nl" "a newline in a name travels as \\n"
expect_eq "$(field "café.txt" path)" "café.txt" "UTF-8 names are plain strings"
expect_eq "$(field "$bad" path)" "<absent>" "no \"path\" for a non-UTF-8 name"
checks=$((checks + 1))
field "$bad" path_b64 | base64 -d >"$WORK/b64" 2>/dev/null || true
printf '\xff\xfe.bin' | cmp -s - "$WORK/b64" || fail "path_b64 does not decode to the name's bytes: $(field "$bad" path_b64)"
expect_eq "$(field $'.\xe9hidden' path)" "<absent>" "a reject line uses path_b64 too"
expect_eq "$(field $'.\xe9hidden' path_b64)" "$(printf '.\xe9hidden' | base64)" \
    "path_b64 of a rejected non-UTF-8 name"
# A DIR whose name is not UTF-8 gives root_b64; one starting with '-' works after --.
mk "$WORK/r"$'\xe9'"/f" "$WORK/-dashdir/g"
dry "$WORK/r"$'\xe9'
expect_rc 0 "non-UTF-8 DIR"
outcomes "non-UTF-8 DIR" "$(realpath -m "$WORK/r"$'\xe9')" f published
expect_eq "$(field f root)" "<absent>" "no \"root\" for a non-UTF-8 DIR"
expect_eq "$(field f root_b64)" "$(realpath -m "$WORK/r"$'\xe9' | tr -d '\n' | base64 -w0)" \
    "root_b64 of a non-UTF-8 DIR"
rm -f "$WORK/rej"
run env -C "$WORK" "$SCAN" --dry-run --json --rejects "$WORK/rej" -- -dashdir
expect_rc 0 "a DIR starting with '-' after --"
outcomes "a DIR starting with '-'" "$(realpath -m "$WORK/-dashdir")" g published

# Relative paths up to 4095 bytes are fine (what one openat(2) takes: PATH_MAX
# counts the NUL); longer ones fail path-too-long.
# The tree is deeper than PATH_MAX, so it is built with openat.
t=$WORK/t13
mkdir "$t"
"$PY3" - "$t" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
names = ["d" * 255] * 15 + ["e" * 60]          # directory path of 3900 bytes
for n in names:
    os.mkdir(n, dir_fd=fd)
    fd2 = os.open(n, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = fd2
for n in ("a" * 194, "b" * 195):              # paths of 4095 and 4096 bytes
    os.close(os.open(n, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
EOF
long=$(printf 'd%.0s' {1..255})
dirs=""
for _ in {1..15}; do dirs="$dirs$long/"; done
dirs="${dirs}$(printf 'e%.0s' {1..60})"
dry "$t"
expect_rc 1 "a path of 4096 bytes or more fails the run"
outcomes "path-too-long" "$(realpath -m "$t")" "$dirs/$(printf 'a%.0s' {1..194})" published \
    "$dirs/$(printf 'b%.0s' {1..195})" failed:path-too-long

finish
