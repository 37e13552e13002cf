#!/usr/bin/env bash
# scan without a broker: every selection rule and reason code, the message
# fields, awkward names, --rejects, --json, the summary line, exit statuses
# and usage errors. Everything runs with --dry-run, which prints the message
# bodies on stdout instead of publishing them.
#
# A small Python checker (python3, standard library only) parses the JSON
# lines: it checks every printed message against the file on disk (lstat,
# the id recomputed as docs/message-format.md defines it), every --rejects
# line against the reason codes, and the --json summary against the lines.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

# --help lists the new options.
run "$SCAN" --help
expect_rc 0 "scan --help"
expect_in out "DIR" "scan --help shows DIR"
for o in --max-depth --one-file-system --hidden --include --exclude --min-size --max-size \
    --min-age --max-age --mime --no-mime --readable --rejects --json --dry-run --jobs \
    --confirm-window --reconnect-timeout --blocked-timeout --check; do
    expect_in out "$o" "scan --help lists $o"
done

# --- message fields ---------------------------------------------------------
t=$WORK/t1
mk "$t/a.txt" "$t/sub/b.txt"
touch -d @1577934245.123456789 "$t/sub/b.txt"
troot=$(realpath "$t")
dry "$t/sub/.."
expect_rc 0 "plain tree"
outcomes "plain tree" "$troot" a.txt published sub/b.txt published
pycheck "default run puts the MIME type in every message" checkmsg present "$WORK/out"
expect_lines out 3 "two messages and the summary on stdout"
expect_eq "$(field sub/b.txt root)" "$troot" "root is the realpath of DIR"
expect_eq "$(field sub/b.txt mtime)" "1577934245.123456789" "mtime with nine fraction digits"
expect_eq "$(field sub/b.txt size)" "$(stat -c %s "$t/sub/b.txt")" "size"
expect_eq "$(field sub/b.txt dev)" "$(stat -c %d "$t/sub/b.txt")" "dev as a string equals stat %d"
expect_eq "$(field sub/b.txt ino)" "$(stat -c %i "$t/sub/b.txt")" "ino as a string equals stat %i"
expect_eq "$(field sub/b.txt mode)" "$((16#$(stat -c %f "$t/sub/b.txt")))" "mode with type bits"
expect_eq "$(field sub/b.txt uid)" "$(stat -c %u "$t/sub/b.txt")" "uid"
expect_eq "$(field sub/b.txt gid)" "$(stat -c %g "$t/sub/b.txt")" "gid"
expect_eq "$(field a.txt mime)" "text/plain" "mime of a text file"
checks=$((checks + 1))
field a.txt id | grep -Eqx '[0-9a-f]{32}' || fail "id is not 32 hex digits: $(field a.txt id)"
checks=$((checks + 1))
grep -q '^{"v":1,' "$WORK/out" || fail "messages are compact JSON starting with \"v\":1"
expect_eq "$("$PY3" "$PY" get "$WORK/out" files)" 2 "summary files"
expect_eq "$("$PY3" "$PY" get "$WORK/out" dry_run)" true "summary dry_run"
# The summary line, on stderr; no progress line when stderr is not a tty.
expect_lines err 1 "one summary line on stderr"
expect_re err '^scan: 2 files: 2 would be published, 0 rejected, 0 failed in [0-9]+\.[0-9]{2} s \([0-9]+ files/s\)$' \
    "summary line format"
checks=$((checks + 1))
grep -q $'\r' "$WORK/err" && fail "progress line (\\r) written although stderr is not a terminal"
ids1=$("$PY3" "$PY" ids "$WORK/out")
# The same unchanged files get the same ids, whatever the thread count.
dry -j 1 "$t"
expect_rc 0 "-j 1"
expect_eq "$("$PY3" "$PY" ids "$WORK/out")" "$ids1" "same ids with -j 1"
dry --jobs 256 "$t"
expect_rc 0 "-j 256"
expect_eq "$("$PY3" "$PY" ids "$WORK/out")" "$ids1" "same ids with --jobs 256"
run env SCANMOVE_JOBS=3 "$SCAN" --dry-run "$t"
expect_rc 0 "SCANMOVE_JOBS=3"
expect_lines out 2 "SCANMOVE_JOBS=3 prints both messages"
# "." as DIR: root is still absolute, paths have no "./", and "." is not hidden.
rm -f "$WORK/rej"
run env -C "$t" "$SCAN" --dry-run --json --rejects "$WORK/rej" .
expect_rc 0 "scan ."
outcomes "scan . gives clean relative paths" "$troot" a.txt published sub/b.txt published
# No broker is needed for a dry run.
run "$SCAN" --dry-run --url amqp://127.0.0.1:1/ "$t"
expect_rc 0 "--dry-run connects to no broker"
expect_lines out 2 "--dry-run without --json prints the messages only"

# Several DIRs, each with its own root; a DIR that is a symlink is followed.
# (The same directory twice, or one inside another, is refused: test_roots.sh.)
mk "$WORK/t1b/other.txt" "$WORK/t1c/third.txt"
ln -s t1c "$WORK/t1clink"
dry "$t" "$WORK/t1b" "$WORK/t1clink"
expect_rc 0 "several DIRs"
expect_eq "$("$PY3" "$PY" roots "$WORK/out")" \
    "$troot"$'\n'"$(realpath "$WORK/t1b")"$'\n'"$(realpath "$WORK/t1c")" \
    "each DIR is a root; the symlinked DIR resolves to its target"
expect_eq "$("$PY3" "$PY" get "$WORK/out" published)" 4 "several DIRs: 2 + 1 + 1 messages"

# --- hidden -----------------------------------------------------------------
t=$WORK/t2
mk "$t/vis" "$t/.hid" "$t/.hdir/inner" "$t/sub/.deep" "$t/sub/ok"
dry "$t"
expect_rc 0 "hidden entries"
outcomes "hidden file and directory rejected, the directory once" "$(realpath "$t")" \
    vis published sub/ok published .hid rejected:hidden .hdir rejected:hidden \
    sub/.deep rejected:hidden
expect_re err '^scan: 5 files: 2 would be published, 3 rejected, 0 failed in ' \
    "summary line counts rejected entries"
dry --hidden "$t"
expect_rc 0 "--hidden"
outcomes "--hidden includes them" "$(realpath "$t")" vis published sub/ok published \
    .hid published .hdir/inner published sub/.deep published
# A hidden DIR named on the command line is scanned: the rule is for entries.
mk "$WORK/.t2root/f"
dry "$WORK/.t2root"
outcomes "a hidden DIR itself is scanned" "$(realpath "$WORK/.t2root")" f published
# -v: one line per rejected entry, plus the summary.
run "$SCAN" --dry-run -v "$t"
expect_rc 0 "-v"
expect_lines err 4 "-v prints one line per rejected entry and the summary"
expect_in err ".hdir" "-v names the rejected directory"
expect_in err "hidden" "-v gives the reason"
# -q: nothing on stderr for a clean run, data still on stdout.
run "$SCAN" --dry-run -q --json "$t"
expect_rc 0 "-q"
expect_lines err 0 "-q prints nothing on stderr"
expect_lines out 3 "-q still prints the messages and --json"

# --- include / exclude ------------------------------------------------------
t=$WORK/t3
r=$(realpath -m "$t")
mk "$t/a.pdf" "$t/d.txt" "$t/sub/b.pdf" "$t/sub/c.txt" "$t/sub/deeper/e.pdf" "$t/.x.pdf"
dry --include '*.pdf' "$t"
expect_rc 0 "--include"
outcomes "--include '*.pdf' (a '*' also matches '/')" "$r" a.pdf published sub/b.pdf published \
    sub/deeper/e.pdf published d.txt rejected:excluded sub/c.txt rejected:excluded \
    .x.pdf rejected:hidden
dry --include '*.pdf' --exclude 'sub/*' "$t"
outcomes "--exclude wins over --include" "$r" a.pdf published sub/b.pdf rejected:excluded \
    sub/deeper/e.pdf rejected:excluded d.txt rejected:excluded sub/c.txt rejected:excluded \
    .x.pdf rejected:hidden
dry --include '*.pdf' --include 'sub/c.*' "$t"
outcomes "--include is repeatable" "$r" a.pdf published sub/b.pdf published \
    sub/deeper/e.pdf published d.txt rejected:excluded sub/c.txt published .x.pdf rejected:hidden
dry --exclude '*.txt' --exclude 'sub/deeper/*' "$t"
outcomes "--exclude is repeatable" "$r" a.pdf published sub/b.pdf published \
    sub/deeper/e.pdf rejected:excluded d.txt rejected:excluded sub/c.txt rejected:excluded \
    .x.pdf rejected:hidden
dry --exclude sub --exclude 'sub/deeper' "$t"
outcomes "--exclude applies to files only, directories are still walked" "$r" a.pdf published \
    sub/b.pdf published sub/deeper/e.pdf published d.txt published sub/c.txt published \
    .x.pdf rejected:hidden
dry --hidden --exclude '*.pdf' "$t"
outcomes "--hidden lets an excluded hidden file be excluded" "$r" a.pdf rejected:excluded \
    sub/b.pdf rejected:excluded sub/deeper/e.pdf rejected:excluded d.txt published \
    sub/c.txt published .x.pdf rejected:excluded

# --- sizes ------------------------------------------------------------------
t=$WORK/t4
r=$(realpath -m "$t")
mkdir -p "$t"
: >"$t/s0"
head -c 10 /dev/zero >"$t/s10"
head -c 1024 /dev/zero >"$t/k1"
head -c 1025 /dev/zero >"$t/k1p"
truncate -s 1M "$t/m1"
truncate -s 2M "$t/m2"
dry --min-size 1K "$t"
expect_rc 0 "--min-size"
outcomes "--min-size 1K (bounds are inclusive)" "$r" s0 rejected:too-small \
    s10 rejected:too-small k1 published k1p published m1 published m2 published
dry --max-size 1K "$t"
outcomes "--max-size 1K" "$r" s0 published s10 published k1 published \
    k1p rejected:too-large m1 rejected:too-large m2 rejected:too-large
dry --min-size 1025 --max-size 1M "$t"
outcomes "--min-size 1025 --max-size 1M" "$r" s0 rejected:too-small s10 rejected:too-small \
    k1 rejected:too-small k1p published m1 published m2 rejected:too-large
expect_eq "$("$PY3" "$PY" get "$WORK/out" bytes)" $((1025 + 1048576)) "summary bytes of the published files"
dry --min-size 1 --exclude 's0' "$t"
outcomes "excluded is checked before the size" "$r" s0 rejected:excluded s10 published \
    k1 published k1p published m1 published m2 published

# --- ages -------------------------------------------------------------------
t=$WORK/t5
r=$(realpath -m "$t")
mk "$t/new" "$t/hour2" "$t/day2" "$t/future"
touch -d '2 hours ago' "$t/hour2"
touch -d '2 days ago' "$t/day2"
touch -d '1 hour' "$t/future"
dry --min-age 1h "$t"
expect_rc 0 "--min-age"
outcomes "--min-age 1h" "$r" new rejected:too-young future rejected:too-young \
    hour2 published day2 published
dry --max-age 1d "$t"
outcomes "--max-age 1d" "$r" new published future published hour2 published day2 rejected:too-old
dry --min-age 1h --max-age 1h30m "$t"
outcomes "--min-age 1h --max-age 1h30m" "$r" new rejected:too-young future rejected:too-young \
    hour2 rejected:too-old day2 rejected:too-old
dry --min-age 1h --max-size 1 "$t"
outcomes "the size is checked before the age" "$r" new rejected:too-large \
    future rejected:too-large hour2 rejected:too-large day2 rejected:too-large

# --- MIME type --------------------------------------------------------------
t=$WORK/t6
r=$(realpath -m "$t")
mkdir -p "$t"
# A complete 1x1 PNG (libmagic wants the IHDR chunk, not just the signature).
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\nIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\r\n-\xb4\x00\x00\x00\x00IEND\xaeB`\x82' \
    >"$t/img.dat"
printf 'just some text\n' >"$t/note.png"
if command -v file >/dev/null; then
    checks=$((checks + 1))
    [ "$(file -b --mime-type "$t/img.dat")" = image/png ] ||
        fail "the crafted PNG is not image/png to libmagic"
fi
dry "$t"
expect_rc 0 "default MIME detection"
expect_eq "$(field img.dat mime)" "image/png" "mime by content, not by name (PNG)"
expect_eq "$(field note.png mime)" "text/plain" "mime by content, not by name (text)"
dry --mime 'text/*' "$t"
outcomes "--mime 'text/*'" "$r" note.png published img.dat rejected:mime-not-allowed
dry --mime 'image/png' --mime 'application/pdf' "$t"
outcomes "--mime is repeatable" "$r" note.png rejected:mime-not-allowed img.dat published
dry --no-mime "$t"
outcomes "--no-mime" "$r" note.png published img.dat published
pycheck "--no-mime leaves \"mime\" out" checkmsg absent "$WORK/out"
dry --no-mime --mime 'text/*' "$t"
outcomes "--no-mime with a --mime rule" "$r" note.png published img.dat rejected:mime-not-allowed
pycheck "--no-mime with a --mime rule still leaves \"mime\" out" checkmsg absent "$WORK/out"
dry --mime 'image/*' --min-size 1K "$t"
outcomes "the size is checked before the type" "$r" note.png rejected:too-small \
    img.dat rejected:too-small

# --- --readable and unreadable directories ------------------------------------
# As root, mode 000 does not stop reading: run scan without CAP_DAC_OVERRIDE
# and CAP_DAC_READ_SEARCH then (setpriv), or skip.
lock_ok=yes
if [ "$(id -u)" -eq 0 ]; then
    lock_ok=no
    : >"$WORK/probe"
    chmod 000 "$WORK/probe"
    # shellcheck disable=SC2054 # the commas belong to the capability list
    nopriv=(setpriv --inh-caps=-all --bounding-set=-dac_override,-dac_read_search --)
    if "${nopriv[@]}" true 2>/dev/null && ! "${nopriv[@]}" cat "$WORK/probe" 2>/dev/null; then
        lock_ok=yes
        PFX=("${nopriv[@]}")
    else
        echo "SKIP: running as root and setpriv cannot drop CAP_DAC_OVERRIDE: no permission checks" >&2
    fi
fi
if [ "$lock_ok" = yes ]; then
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
    expect_re err '^scan: 3 files: 2 would be published, 0 rejected, 1 failed in ' \
        "summary line counts the failed directory"
    chmod 755 "$t/closed"
    PFX=()
fi

# --- --max-depth --------------------------------------------------------------
t=$WORK/t8
r=$(realpath -m "$t")
mk "$t/top" "$t/d1/a" "$t/d1/d2/b" "$t/d1/d2/d3/c"
mkdir "$t/e1"
dry --max-depth 1 "$t"
expect_rc 0 "--max-depth 1"
outcomes "--max-depth 1: DIR's own entries" "$r" top published d1 rejected:too-deep \
    e1 rejected:too-deep
dry --max-depth 2 "$t"
outcomes "--max-depth 2" "$r" top published d1/a published d1/d2 rejected:too-deep
dry --max-depth 3 "$t"
outcomes "--max-depth 3" "$r" top published d1/a published d1/d2/b published \
    d1/d2/d3 rejected:too-deep
dry "$t"
outcomes "no --max-depth" "$r" top published d1/a published d1/d2/b published \
    d1/d2/d3/c published

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

# --- empty, missing and wrong DIRs ------------------------------------------------
mkdir "$WORK/empty"
dry "$WORK/empty"
expect_rc 0 "empty directory"
expect_lines out 1 "empty directory: only the summary"
expect_eq "$("$PY3" "$PY" get "$WORK/out" files)" 0 "empty directory: 0 files"
expect_re err '^scan: 0 files: 0 would be published, 0 rejected, 0 failed in ' "empty directory summary line"
checks=$((checks + 1))
[ -s "$WORK/rej" ] && fail "empty directory: --rejects file not empty"

run "$SCAN" --dry-run "$WORK/nope"
expect_rc 66 "missing DIR"
expect_eq "$(cat "$WORK/err")" "scan: $WORK/nope: No such file or directory" "missing DIR message"
expect_lines out 0 "missing DIR: nothing on stdout"
run "$SCAN" --url amqp://127.0.0.1:1/ "$WORK/nope"
expect_rc 66 "missing DIR is found before connecting"
run "$SCAN" --dry-run "$WORK/t1/a.txt"
expect_rc 66 "DIR is a file"
expect_eq "$(cat "$WORK/err")" "scan: $WORK/t1/a.txt: not a directory" "DIR is a file message"
run "$SCAN" --dry-run "$WORK/t1" "$WORK/nope"
expect_rc 66 "one good DIR, one missing"
expect_lines out 0 "all DIRs are checked before scanning"
run "$SCAN" --url amqp://127.0.0.1:1/ "$WORK/t1"
expect_rc 69 "no broker without --dry-run"
expect_lines out 0 "no broker: nothing on stdout"

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

# --- usage errors -------------------------------------------------------------------
usage() {
    local what=$1
    shift
    run "$SCAN" "$@"
    expect_rc 64 "$what"
    expect_in err "Try 'scan --help'." "$what"
}
usage "bad --max-size" --dry-run --max-size 12X "$WORK/t1"
expect_in err "'12X' is not a size" "bad --max-size names the value"
usage "negative --min-size" --dry-run --min-size -1 "$WORK/t1"
usage "bad --min-age" --dry-run --min-age soon "$WORK/t1"
usage "bad --max-age" --dry-run --max-age 3x "$WORK/t1"
usage "-j 0" --dry-run -j 0 "$WORK/t1"
usage "-j 257" --dry-run -j 257 "$WORK/t1"
usage "-j x" --dry-run --jobs x "$WORK/t1"
usage "bad --max-depth" --dry-run --max-depth deep "$WORK/t1"
usage "bad --confirm-window" --dry-run --confirm-window many "$WORK/t1"
usage "bad --reconnect-timeout" --dry-run --reconnect-timeout later "$WORK/t1"
usage "bad --blocked-timeout" --dry-run --blocked-timeout later "$WORK/t1"
usage "--mime without a pattern" --dry-run --mime
expect_in err "needs an argument" "--mime without a pattern"
usage "unknown option" --dry-run --no-such-option "$WORK/t1"
expect_in err "scan: unknown option '--no-such-option'" "unknown option sentence"
usage "no DIR" --dry-run
usage "nothing at all"
run env SCANMOVE_JOBS=0 "$SCAN" --dry-run "$WORK/t1"
expect_rc 78 "bad SCANMOVE_JOBS"
expect_in err "SCANMOVE_JOBS" "bad SCANMOVE_JOBS is named"
run env SCANMOVE_JOBS=0 "$SCAN" --dry-run -j 2 "$WORK/t1"
expect_rc 0 "-j overrides a bad SCANMOVE_JOBS"

# Standard output that cannot be written (a full disk) is an error, 74,
# whether it carries the dry run's messages or the rejects (--rejects -).
mkdir -p "$WORK/full"
touch "$WORK/full/a.skip" "$WORK/full/b"
set +e
"$SCAN" --dry-run "$WORK/full" >/dev/full 2>"$WORK/err"
rc=$?
set -e
expect_rc 74 "--dry-run to a full standard output"
expect_in err "cannot write to standard output" "--dry-run to a full standard output"
set +e
"$SCAN" --dry-run --exclude '*.skip' --rejects - "$WORK/full" >/dev/full 2>"$WORK/err"
rc=$?
set -e
expect_rc 74 "--rejects - to a full standard output"
expect_in err "cannot write to standard output" "--rejects - to a full standard output"

finish
