#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1): a real dead-letter
# queue of mixed reasons (permission-denied, changed, root-not-allowed,
# malformed-json, a path that is not UTF-8, and a delivery-limit letter of
# the broker's own), read with move --dead, filtered with --reason, and
# trimmed with --purge-dead and its --dry-run; counts checked before and
# after, the letters' order, bodies and headers unchanged by reading them.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"
DU=$TESTS_DIR/dead_util.py

# fields KEY... : the members KEY of each line of the last stdout.
fields() { "$PY3" "$DU" fields "$WORK/out" "$@"; }

# dcheck WHAT CMD ARGS... : one check, passed when dead_util.py CMD ARGS... is happy.
dcheck() {
    local what=$1 msg
    shift
    checks=$((checks + 1))
    msg=$("$PY3" "$DU" "$@" 2>&1) || fail "$what: $(printf '%s' "$msg" | head -c 1500)"
}

# As root, a directory of mode 555 does not stop a rename: the mover runs
# without CAP_DAC_OVERRIDE then (setpriv, nopriv_or_skip of tests/lib.sh).
nopriv_or_skip "no permission-denied letter"

# --- a dead-letter queue of mixed reasons ------------------------------------------------
topo list
T=$WORK/list
R=$T/root O=$T/other D=$T/dest B=$T/bodies
mkdir -p "$R/locked" "$O" "$D" "$B"
for f in locked/perm changed ok limit; do echo "content of $f" >"$R/$f.txt"; done
echo other >"$O/other.txt"
printf latin >"$O/caf$(printf '\351').txt"
"$PY3" "$PY" msg "$B/1" "$R" locked/perm.txt "$R/locked/perm.txt"
"$PY3" "$PY" msg "$B/2" "$R" changed.txt "$R/changed.txt"
"$PY3" "$PY" msg "$B/3" "$O" other.txt "$O/other.txt"
printf 'not json' >"$B/4"
"$PY3" "$PY" msg "$B/5" "$O" "caf$(printf '\351').txt" "$O/caf$(printf '\351').txt"
"$PY3" "$PY" msg "$B/6" "$R" ok.txt "$R/ok.txt"
"$PY3" "$PY" msg "$B/7" "$R" limit.txt "$R/limit.txt"
"$PY3" "$PY" touchns "$R/changed.txt" 1000000000
chmod 555 "$R/locked"
publish "$B/1" "$B/2" "$B/3" "$B/4" "$B/5" "$B/6"
run env AMQP_URL="$url" timeout 90 "${PFX[@]}" "$MOVE" --queue "$q" --exchange "$ex" \
    --from "$R" --to "$D" --idle-exit 1s --json
chmod 755 "$R/locked"
pycheck "list: the mover dead-letters five of six" jcheck "$WORK/out" moved=1 dead_lettered=5 \
    'dead_by_reason={"permission-denied":1,"changed":1,"root-not-allowed":2,"malformed-json":1}'
# The broker's own: a message given back unacknowledged more often than the
# queue's delivery limit (5) is dead-lettered by the broker, with x-death.
publish "$B/7"
for _ in $(seq 10); do
    [ "$(count "$q.dead")" = 6 ] && break
    "$PY3" "$AMQP" peek "$url" "$q" 10 "$WORK/peek" >/dev/null
done
expect_eq "$(settled "$q.dead" 6) $(count)" "6 0" "list: six dead letters, the queue empty"

# --- --dead lists them in order, and changes nothing -------------------------------------
"$PY3" "$AMQP" peek "$url" "$q.dead" 100 "$WORK/before" >/dev/null
moveq --dead
expect_rc 0 "list: move --dead"
dcheck "list: the lines have the documented members" valid "$WORK/out"
cp "$WORK/out" "$WORK/list1"
expect_eq "$(fields reason root path count)" "$(printf '%s\t%s\t%s\t1\n' \
    permission-denied "$R" locked/perm.txt changed "$R" changed.txt \
    root-not-allowed "$O" other.txt malformed-json - - \
    root-not-allowed "$O" "b'caf\\xe9.txt'" delivery-limit "$R" limit.txt)" \
    "list: reasons, roots, paths and counts, in order"
expect_eq "$(fields id | head -3 | tr '\n' ' ')" \
    "$(for i in 1 2 3; do "$PY3" -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$B/$i"; done | tr '\n' ' ')" \
    "list: the ids are the messages'"
expect_eq "$(fields decode_error | sed 's/^[^-].*/E/' | tr -d '\n')" "---E--" \
    "list: only the malformed body has a decode error"
expect_re out '"error":"the broker dead-lettered it from queue '"'$q'"' \(delivery_limit\)"' \
    "list: the broker's letter says so"
expect_re out '"error":"the root is not one of this mover' "list: the mover's error sentence"
expect_re err "^move: notice: listed 6 of the 6 dead letters looked at in '$q.dead'\$" \
    "list: the summary line"
expect_eq "$(settled "$q.dead" 6)" 6 "list: all six still there"
for i in 2 3; do
    moveq --dead
    expect_rc 0 "list: move --dead, time $i"
    cmp -s "$WORK/out" "$WORK/list1" || fail "list: time $i differs: $(diff "$WORK/list1" "$WORK/out" | head -5)"
    expect_eq "$(settled "$q.dead" 6)" 6 "list: all six there after listing $i times"
done
"$PY3" "$AMQP" peek "$url" "$q.dead" 100 "$WORK/after" >/dev/null
dcheck "list: bodies, properties and headers unchanged, in order" same \
    "$WORK/before" "$WORK/after"
moveq --dead --from "$R"
expect_rc 64 "list: --dead takes no --from"
moveq --dead --json
expect_rc 64 "list: --dead takes no --json"

# --- --reason picks letters --------------------------------------------------------------
moveq --dead --reason root-not-allowed
expect_eq "$(fields path reason)" "$(printf 'other.txt\troot-not-allowed\nb'"'"'caf\\xe9.txt'"'"'\troot-not-allowed')" \
    "reason: the two root-not-allowed letters, in order"
moveq --dead --reason malformed-json --reason delivery-limit -q
expect_eq "$(fields reason)" "$(printf 'malformed-json\ndelivery-limit')" \
    "reason: two reasons given"
expect_lines err 0 "reason: -q says nothing"
moveq --dead --reason exists
expect_lines out 0 "reason: none of a reason no letter has"
moveq --dead --reason root-not-allowed --count 1
expect_eq "$(fields path)" other.txt "reason: --count 1 lists the first"
expect_eq "$(settled "$q.dead" 6)" 6 "reason: all six still there"

# --- --purge-dead and its --dry-run ------------------------------------------------------
moveq --purge-dead --dry-run --reason root-not-allowed --reason changed
expect_rc 0 "purge: --dry-run"
dcheck "purge: --dry-run lines have the members" valid "$WORK/out"
expect_eq "$(fields reason action | tr '\t\n' ': ')" \
    "permission-denied:keep changed:purge root-not-allowed:purge malformed-json:keep root-not-allowed:purge delivery-limit:keep " \
    "purge: --dry-run says what it would do to each letter"
expect_re err "^move: notice: would purge 3 dead letters from '$q.dead'; left 3 in place\$" \
    "purge: --dry-run summary"
expect_eq "$(settled "$q.dead" 6)" 6 "purge: --dry-run deletes nothing"
moveq --purge-dead --reason root-not-allowed --json
expect_rc 0 "purge: --purge-dead --reason root-not-allowed"
expect_eq "$(cat "$WORK/out")" '{"purged_dead":2,"left_dead":4,"dry_run":false}' "purge: --json"
expect_eq "$(settled "$q.dead" 4)" 4 "purge: four left"
moveq --dead
expect_eq "$(fields reason | tr '\n' ' ')" "permission-denied changed malformed-json delivery-limit " \
    "purge: the others stay, in order"
moveq --dry-run --dead
expect_rc 64 "purge: --dry-run goes with --purge-dead or --requeue-dead only"
moveq --reason changed --from "$R" --to "$D"
expect_rc 64 "purge: --reason goes with the dead-letter commands only"

# --- --requeue-dead --dry-run ------------------------------------------------------------
moveq --requeue-dead --dry-run --json
expect_rc 0 "requeue: --dry-run"
expect_eq "$(head -4 "$WORK/out" >"$WORK/lines" && "$PY3" "$DU" fields "$WORK/lines" reason action | tr '\t\n' ': ')" \
    "permission-denied:requeue changed:drop-changed malformed-json:requeue delivery-limit:requeue " \
    "requeue: --dry-run says what it would do"
expect_eq "$(tail -1 "$WORK/out")" \
    '{"requeued_dead":3,"dropped_dead":1,"dropped_by_reason":{"gone":0,"changed":1,"at-dest":0},"left_dead":0,"dry_run":true}' \
    "requeue: --dry-run --json summary"
expect_eq "$(settled "$q.dead" 4) $(count)" "4 0" "requeue: --dry-run changes nothing"
moveq --purge-dead -q
expect_eq "$(settled "$q.dead" 0)" 0 "purge: all purged"

finish
