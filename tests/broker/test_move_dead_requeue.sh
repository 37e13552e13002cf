#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1): move --requeue-dead
# drops the dead letters of files that are gone, changed or already at
# --to, counts them, leaves the letters of roots other than --from in
# place, and carries a letter's history (first dead-lettering, count) over
# to the message it requeues, which the mover keeps when it dead-letters
# the message again; also for a letter the broker dead-lettered.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"
DU=$TESTS_DIR/dead_util.py

fields() { "$PY3" "$DU" fields "$WORK/out" "$@"; }

# --- letters of obsolete files are dropped -----------------------------------------------
topo drop
T=$WORK/drop
R1=$T/r1 R2=$T/r2 X=$T/x D=$T/dest B=$T/bodies
mkdir -p "$R1" "$R2" "$X" "$D" "$B"
for f in keep gone changed moved copied; do echo "content of $f" >"$R1/$f.txt"; done
echo "content of other" >"$R2/other.txt"
i=0
for f in keep gone changed moved copied; do
    i=$((i + 1))
    "$PY3" "$PY" msg "$B/$i" "$R1" "$f.txt" "$R1/$f.txt"
done
"$PY3" "$PY" msg "$B/6" "$R2" other.txt "$R2/other.txt"
publish "$B/1" "$B/2" "$B/3" "$B/4" "$B/5" "$B/6"
# A mover given another root dead-letters all six (root-not-allowed).
moveq --from "$X" --to "$D" --idle-exit 1s --json
pycheck "drop: six dead letters" jcheck "$WORK/out" dead_lettered=6
expect_eq "$(settled "$q.dead" 6)" 6 "drop: six in the dead-letter queue"
rm "$R1/gone.txt"
"$PY3" "$PY" touchns "$R1/changed.txt" 1000000000
mv "$R1/moved.txt" "$D/moved.txt"            # renamed into DEST: the same inode
cp -p "$R1/copied.txt" "$D/copied.txt"       # copied across: same size and mtime
rm "$R1/copied.txt"
moveq --requeue-dead --dry-run --from "$R1" --to "$D"
expect_rc 0 "drop: --dry-run"
expect_eq "$(fields path action | tr '\t\n' ': ')" \
    "keep.txt:requeue gone.txt:drop-gone changed.txt:drop-changed moved.txt:drop-at-dest copied.txt:drop-at-dest other.txt:keep " \
    "drop: --dry-run says what would be done to each letter"
expect_re err "^move: notice: would requeue 1 dead letters from '$q.dead' to exchange '$ex'; would drop 4 \(1 gone, 1 changed, 2 already at DEST\); left 1 in place\$" \
    "drop: --dry-run summary line"
expect_eq "$(settled "$q.dead" 6) $(count)" "6 0" "drop: --dry-run changes nothing"
moveq --requeue-dead --from "$R1" --to "$D" --json
expect_rc 0 "drop: --requeue-dead --from --to"
expect_eq "$(cat "$WORK/out")" \
    '{"requeued_dead":1,"dropped_dead":4,"dropped_by_reason":{"gone":1,"changed":1,"at-dest":2},"left_dead":1,"dry_run":false}' \
    "drop: --json counts requeued, dropped by why, and left"
expect_re err "^move: notice: requeued 1 dead letters from '$q.dead' to exchange '$ex'; dropped 4 \(1 gone, 1 changed, 2 already at DEST\); left 1 in place\$" \
    "drop: the summary line"
expect_eq "$(settled "$q.dead" 1) $(settled "$q" 1)" "1 1" \
    "drop: one requeued, the other root's letter left"
moveq --dead
expect_eq "$(fields root path)" "$(printf '%s\tother.txt' "$R2")" "drop: the letter left is the other root's"
# Without --to, a file at DEST is not looked for; without --from, every root is.
cp -p "$R2/other.txt" "$D/other.txt"
moveq --requeue-dead --dry-run
expect_eq "$(fields path action)" "$(printf 'other.txt\trequeue')" \
    "drop: without --to the letter of a file in place is requeued"
moveq --requeue-dead --dry-run --to "$D"
expect_eq "$(fields path action)" "$(printf 'other.txt\trequeue')" \
    "drop: a copy at DEST whose source is still there is the mover's to judge"
rm "$D/other.txt"

# --- history carried over a requeue and a second dead-lettering ---------------------------
moveq --dead
first=$(fields first_dead)
expect_eq "$(fields count)" 1 "history: dead-lettered once"
expect_eq "$(fields last_dead)" "$first" "history: last is first"
"$PY3" "$AMQP" peek "$url" "$q.dead" 10 "$WORK/letter" >/dev/null
stamp=$("$PY3" -c 'import json, sys; print(json.loads(open(sys.argv[1]).readline()).get("timestamp"))' "$WORK/letter")
expect_eq "$("$PY3" "$DU" header "$WORK/letter" 0 x-scanmove-first-dead)" "$stamp" \
    "history: x-scanmove-first-dead is the timestamp of the first dead-lettering"
expect_eq "$("$PY3" "$DU" header "$WORK/letter" 0 x-scanmove-dead-count)" 1 \
    "history: x-scanmove-dead-count 1"
sleep 1.1 # a second later: the times differ
moveq --requeue-dead -q
expect_rc 0 "history: --requeue-dead"
expect_eq "$(settled "$q.dead" 0) $(settled "$q" 2)" "0 2" "history: both letters back on the queue"
"$PY3" "$AMQP" peek "$url" "$q" 10 "$WORK/requeued" >/dev/null
expect_eq "$("$PY3" "$DU" header "$WORK/requeued" 1 x-scanmove-first-dead) $("$PY3" "$DU" header "$WORK/requeued" 1 x-scanmove-dead-count)" \
    "$stamp 1" "history: the requeued message carries first time and count"
expect_eq "$("$PY3" "$DU" header "$WORK/requeued" 1 x-scanmove-reason)" - \
    "history: but not the old reason"
moveq --from "$X" --to "$D" --idle-exit 1s --json
pycheck "history: dead-lettered again" jcheck "$WORK/out" dead_lettered=2
moveq --dead
expect_eq "$(fields path count first_dead | tr '\t\n' ': ')" "keep.txt:2:$first other.txt:2:$first " \
    "history: dead-lettered twice: count 2, and the first time kept"
checks=$((checks + 1))
last=$(fields last_dead | tail -1)
[[ "$last" > "$first" ]] || fail "history: last_dead $last is not after first_dead $first"

# --- the broker's letters: history from x-death -------------------------------------------
# A message given back unacknowledged more often than the delivery limit (5)
# is dead-lettered by the broker; requeued and dead-lettered by a mover, it
# counts two.
moveq --purge-dead -q
"$PY3" "$PY" msg "$B/7" "$R1" keep.txt "$R1/keep.txt"
publish "$B/7"
for _ in $(seq 10); do
    [ "$(count "$q.dead")" = 1 ] && break
    "$PY3" "$AMQP" peek "$url" "$q" 10 "$WORK/peek" >/dev/null
done
expect_eq "$(settled "$q.dead" 1)" 1 "broker: the broker dead-lettered it"
moveq --dead
expect_eq "$(fields reason count)" "$(printf 'delivery-limit\t1')" "broker: reason and count from x-death"
broker_first=$(fields first_dead)
moveq --requeue-dead -q
sleep 1.1
moveq --from "$X" --to "$D" --idle-exit 1s -q
moveq --dead
expect_eq "$(fields reason count first_dead)" "$(printf 'root-not-allowed\t2\t%s' "$broker_first")" \
    "broker: dead-lettered again by a mover: count 2, the broker's first time"
moveq --purge-dead -q
expect_eq "$(settled "$q.dead" 0)" 0 "broker: purged"

# --- a letter is dropped only on what this host can see ------------------------------------
# Its root missing here (a file system not mounted), or a directory on the
# way missing: nothing says the file is gone, so the letter is requeued.
topo unseen
U=$WORK/unseen
mkdir -p "$U/r3" "$U/r4/sub" "$U/x" "$U/dest" "$U/bodies"
echo three >"$U/r3/f.txt"
echo four >"$U/r4/sub/f.txt"
"$PY3" "$PY" msg "$U/bodies/1" "$U/r3" f.txt "$U/r3/f.txt"
"$PY3" "$PY" msg "$U/bodies/2" "$U/r4" sub/f.txt "$U/r4/sub/f.txt"
publish "$U/bodies/1" "$U/bodies/2"
moveq --from "$U/x" --to "$U/dest" --idle-exit 1s
expect_eq "$(settled "$q.dead" 2)" 2 "unseen: two dead letters"
mv "$U/r3" "$U/r3.unmounted"
rm -r "$U/r4/sub"
moveq --requeue-dead --dry-run
expect_eq "$(fields path action | tr '\t\n' ': ')" "f.txt:requeue sub/f.txt:requeue " \
    "unseen: a missing root or directory on the way drops nothing"

finish
