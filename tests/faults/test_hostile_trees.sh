#!/usr/bin/env bash
# Scenario "Hostile trees for scan": a tree built to trip a directory walker
# (tests/faults/hostile/tree.py): symlink loops, links to the parent, to
# the directory itself and out of the root, a FIFO, a UNIX socket, device
# nodes (when mknod works), files and directories of mode 000, a directory
# that can be listed but not searched, names of 255 bytes, with newlines
# and invalid UTF-8, relative paths of 4095 bytes and longer, a chain of
# 2047 directories, and a directory of 100,000 entries. scan --readable
# --json --rejects publishes it into a queue, with the usual limit of 1024
# open files: it does not hang (a FIFO is never opened), follows no
# symlink, and reports every entry exactly once, with the outcome and
# reason the tree was built for; the counts of its summary agree. Two
# movers then move every published file, and the audit (tests/audit.sh)
# passes, with the directory the links point into unchanged.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/lib.sh"
TREE=$TESTS_DIR/faults/hostile/tree.py
# shellcheck disable=SC2034 # used by pycheck (lib.sh)
PY=$TESTS_DIR/move_util.py
AUDIT=$TESTS_DIR/audit.sh
NBIG=${NBIG:-100000}
umask 022

q=hostile-tree-$$
ex=hostile-tree-ex-$$
declared=("$q")

# treecheck WHAT CMD ARGS... : one check, passed when tree.py CMD ARGS... is happy.
treecheck() {
    local what=$1 msg
    shift
    checks=$((checks + 1))
    msg=$("$PY3" "$TREE" "$@" 2>&1) || fail "$what: $(printf '%s' "$msg" | head -c 3000)"
}

# Mode 000 does not stop root: then scan runs without CAP_DAC_OVERRIDE and
# CAP_DAC_READ_SEARCH (setpriv), as in tests/cli/test_scan_readable.sh, or the
# permission entries are left out.
locked=yes
nopriv_prefix || locked=no

T=$WORK/t
R=$T/root
C=$T/canary
D=$T/dest
mkdir -p "$T" "$D"
start=$SECONDS
"$PY3" "$TREE" build "$R" "$C" "$WORK/expect" "$NBIG" "$locked" >&2
grep -v '^#' "$WORK/expect" | cut -f2 | cut -d: -f1 | sort | uniq -c | tr '\n' ' ' >&2
echo "entries to report; built in $((SECONDS - start)) s" >&2
npub=$(grep -c $'\tpublished$' "$WORK/expect")
nfailed=$(grep -c $'\tfailed:' "$WORK/expect" || true)
"$PY3" "$TREE" published "$WORK/expect" >"$WORK/published"
"$PY3" "$TREE" files "$R" >"$WORK/root.before"
"$AUDIT" snapshot "$R" >"$WORK/manifest" || fail "audit.sh snapshot $R"
"$AUDIT" snapshot "$C" >"$WORK/canary.manifest" || fail "audit.sh snapshot $C"

# --- a FIFO alone, with every option that opens files: scan does not block ------
mkdir "$T/fifo-only"
mkfifo "$T/fifo-only/fifo"
ln -s fifo "$T/fifo-only/to-fifo"
start=$SECONDS
run timeout 60 "${PFX[@]}" "$SCAN" --dry-run --readable --mime '*' --json --rejects "$WORK/rej" \
    "$T/fifo-only"
expect_rc 0 "scan of a FIFO finishes (124: it blocked)"
checks=$((checks + 1))
[ $((SECONDS - start)) -lt 30 ] || fail "scan of a FIFO took $((SECONDS - start)) s"
expect_eq "$(grep -c '"reason":"not-regular"' "$WORK/rej")" 1 "the FIFO is rejected not-regular"
expect_eq "$(grep -c '"reason":"symlink"' "$WORK/rej")" 1 "the link to it is rejected symlink"

# --- the whole tree into the queue ---------------------------------------------------
# With the usual soft limit of 1024 open files (systemd's default for services).
"$PY3" "$TREE" lock "$R"
start=$SECONDS
run env AMQP_URL="$url" timeout 300 "${PFX[@]}" bash -c 'ulimit -S -n 1024 && exec "$@"' - "$SCAN" \
    --queue "$q" --exchange "$ex" --readable --json --rejects "$WORK/rej" "$R"
"$PY3" "$TREE" unlock "$R"
echo "scan: $((SECONDS - start)) s: $(tail -n 1 "$WORK/err")" >&2
checks=$((checks + 1))
[ "$rc" -ne 124 ] || fail "scan of the tree did not finish in 300 s"
expect_rc "$([ "$nfailed" -gt 0 ] && echo 1 || echo 0)" \
    "scan of the tree ($nfailed entries fail by design)"
expect_not_in err "Sanitizer" "scan: no sanitizer report"
expect_not_in err "runtime error" "scan: no undefined behaviour"
treecheck "every entry reported once, with the outcome it was built for; the summary agrees" \
    check "$WORK/expect" "$WORK/rej" "$WORK/out" "$R"
expect_eq "$(count "$q")" "$npub" "the queue holds one message per published file"

# --- two movers take them all -------------------------------------------------------
start=$SECONDS
for i in 1 2; do
    env AMQP_URL="$url" timeout 300 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
        --idle-exit 3s --json >"$WORK/move.out$i" 2>"$WORK/move.err$i" &
    bg_pids+=("$!")
done
moved=0
for i in 1 2; do
    set +e
    wait "${bg_pids[$((i - 1))]}"
    rc=$?
    set -e
    cp "$WORK/move.err$i" "$WORK/err"
    expect_rc 0 "mover $i"
    expect_not_in err "Sanitizer" "mover $i: no sanitizer report"
    expect_not_in err "runtime error" "mover $i: no undefined behaviour"
    expect_not_in err "dead-lettered " "mover $i: nothing dead-lettered"
    pycheck "mover $i: --json summary" jcheck "$WORK/move.out$i" dead_lettered=0 requeued=0 \
        skipped=0
    moved=$((moved + $("$PY3" "$PY" jnum "$WORK/move.out$i" moved)))
done
bg_pids=()
echo "movers: $((SECONDS - start)) s" >&2
expect_eq "$moved" "$npub" "the movers moved every published file between them"
expect_eq "$(count "$q")" 0 "the queue is empty"
expect_eq "$(count "$q.dead")" 0 "nothing dead-lettered"
checks=$((checks + 1))
"$PY3" "$TREE" files "$D" >"$WORK/dest.after"
cmp -s "$WORK/published" "$WORK/dest.after" ||
    fail "DEST does not hold exactly the published files: $(diff "$WORK/published" \
        "$WORK/dest.after" | head -6 | cut -c1-200 | tr '\n' ' ')"
checks=$((checks + 1))
"$PY3" "$TREE" files "$R" >"$WORK/root.after"
LC_ALL=C comm -23 "$WORK/root.before" "$WORK/published" >"$WORK/root.want"
cmp -s "$WORK/root.want" "$WORK/root.after" ||
    fail "ROOT does not keep exactly the entries not published: $(diff "$WORK/root.want" \
        "$WORK/root.after" | head -6 | cut -c1-200 | tr '\n' ' ')"

# --- the audit: what scan rejected stays without a message --------------------------
ignore=()
while IFS= read -r p; do
    ignore+=(--ignore "$p")
done < <("$PY3" "$TREE" ignore "$WORK/expect")
run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" --manifest "$WORK/manifest" \
    --outside "$C=$WORK/canary.manifest" "${ignore[@]}"
expect_rc 0 "audit: $(tail -n 3 "$WORK/out" "$WORK/err" | tr '\n' ' ' | head -c 1500)"
cat "$WORK/out" >&2

finish
