#!/usr/bin/env bash
# Scenario "Hostile messages": well over a hundred crafted bodies published
# straight to the queue (the corpus of tests/faults/hostile/: invalid JSON,
# broken UTF-8, 10,000-deep nesting, huge numbers, wrong types, duplicate
# and missing fields, unknown versions, '..', absolute paths, NUL bytes,
# paths of 4096 and 4097 bytes, roots not allowed, symlinks out of the root,
# FIFOs, sockets, directories, a 1 MiB body, ...) with a dozen good messages
# for real files mixed in. One mover drains the queue: every hostile body is
# dead-lettered with its expected x-scanmove-reason (each checked), the good
# files move, the mover exits 0 at --idle-exit with one log line per dead
# letter, naming the message id, and the audit (tests/audit.sh) passes with
# the canary directory the symlinks point into, and the roots that are not
# allowed, unchanged.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/lib.sh"
# shellcheck disable=SC2034 # used by pycheck (lib.sh)
PY=$TESTS_DIR/move_util.py
GEN=$TESTS_DIR/faults/hostile/gen.py
AUDIT=$TESTS_DIR/audit.sh
umask 022

q=hostile-msg-$$
ex=hostile-msg-ex-$$
declared=("$q")

# gencheck WHAT CMD ARGS... : one check, passed when gen.py CMD ARGS... is happy.
gencheck() {
    local what=$1 msg
    shift
    checks=$((checks + 1))
    msg=$("$PY3" "$GEN" "$@" 2>&1) || fail "$what: $(printf '%s' "$msg" | head -c 3000)"
}

H=$WORK/h          # H/intake is the root; H/in, H/intake2 are not allowed
C=$WORK/canary     # where the symlinks of the root point
R=$H/intake
D=$H/dest
B=$WORK/bodies
mkdir -p "$H" "$D" "$B" "$C"
"$PY3" "$GEN" tree "$H" "$C" >&2
"$PY3" "$GEN" hostile "$B" "$WORK/expect" "$H" "$C"
"$PY3" "$GEN" good "$B" "$WORK/want" "$H"
nhostile=$(wc -l <"$WORK/expect")
ngood=$(wc -l <"$WORK/want")
checks=$((checks + 1))
if [ "$nhostile" -lt 40 ] || [ "$ngood" -lt 10 ]; then
    fail "the corpus has $nhostile hostile and $ngood good messages"
fi
echo "corpus: $nhostile hostile messages ($(cut -f1 "$WORK/expect" | sort -u | wc -l) reasons), $ngood good ones" >&2

# What the audit compares: the root, and what must not change outside it.
outside=()
for dir in "$C" "$H/in" "$H/intake2"; do
    m=$WORK/outside.$(basename "$dir")
    "$AUDIT" snapshot "$dir" >"$m" || fail "audit.sh snapshot $dir"
    outside+=(--outside "$dir=$m")
done
"$AUDIT" snapshot "$R" >"$WORK/manifest" || fail "audit.sh snapshot $R"
"$PY3" "$GEN" files "$R" >"$WORK/root.before"

declare_topo >/dev/null || fail "scan could not declare the topology"
mapfile -t bodies < <("$PY3" "$GEN" order "$B")
"$PY3" "$AMQP" publish "$url" "$ex" "$q" "${bodies[@]}" || fail "publishing the corpus"
expect_eq "$(count "$q")" "$((nhostile + ngood))" "every message is queued"

# --- one mover drains it ------------------------------------------------------------
start=$SECONDS
run env AMQP_URL="$url" timeout 300 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
    --idle-exit 2s --json
echo "mover: $((SECONDS - start)) s" >&2
expect_rc 1 "the mover survives the corpus and exits 1 (it dead-lettered) at --idle-exit"
expect_not_in err "Sanitizer" "no sanitizer report"
expect_not_in err "runtime error" "no undefined behaviour"
reasons=$(cut -f1 "$WORK/expect" | sort | uniq -c |
    awk 'BEGIN{printf "{"} {printf "%s\"%s\":%d", (NR>1?",":""), $2, $1} END{printf "}"}')
pycheck "--json summary" jcheck "$WORK/out" moved="$ngood" dead_lettered="$nhostile" \
    duplicates=0 skipped=0 requeued=0 "dead_by_reason=$reasons"
expect_re err "^move: notice: $ngood moved, 0 skipped, 0 duplicates, $nhostile dead-lettered, 0 requeued in " \
    "summary line"
gencheck "one log line per dead letter, with the message id" logcheck "$WORK/err" "$WORK/expect"

# The good files are at DEST, and nothing else.
checks=$((checks + 1))
LC_ALL=C sort "$WORK/want" >"$WORK/want.sorted"
"$PY3" "$GEN" files "$D" >"$WORK/dest.after"
cmp -s "$WORK/want.sorted" "$WORK/dest.after" ||
    fail "DEST does not hold exactly the good files: $(diff "$WORK/want.sorted" "$WORK/dest.after" |
        head -6 | tr '\n' ' ')"
# ROOT keeps the rest: links, the FIFO, the socket, the changed file.
checks=$((checks + 1))
"$PY3" "$GEN" files "$R" >"$WORK/root.after"
LC_ALL=C comm -23 "$WORK/root.before" "$WORK/want.sorted" >"$WORK/root.want"
cmp -s "$WORK/root.want" "$WORK/root.after" ||
    fail "ROOT lost or gained entries: $(diff "$WORK/root.want" "$WORK/root.after" | head -6 | tr '\n' ' ')"
expect_eq "$(readlink "$R/link")" "$C" "ROOT/link still points where it did"
expect_eq "$(count "$q")" 0 "the queue is empty"
expect_eq "$(count "$q.dead")" "$nhostile" "every hostile message is in $q.dead"

# --- the audit, while the dead letters are still there -------------------------------
run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" --manifest "$WORK/manifest" \
    "${outside[@]}"
expect_rc 0 "audit: $(tail -n 3 "$WORK/out" "$WORK/err" | tr '\n' ' ' | head -c 1500)"
cat "$WORK/out" >&2

# --- every dead letter, with its reason -------------------------------------------------
expect_eq "$("$PY3" "$AMQP" get "$url" "$q.dead" 100000 "$WORK/dead")" "$nhostile" \
    "dead letters taken off $q.dead"
pycheck "each hostile message dead-lettered with its reason" checkdead "$WORK/dead" \
    "$WORK/expect" "$ex.dlx" "$q"

finish
