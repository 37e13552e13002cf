#!/usr/bin/env bash
# Against the private broker: the example of README.md's "Chaining the next
# step" works as written. Its Python step (between "# scanmove: on-moved"
# and "# scanmove: end") runs with only the URL file and the names made the
# test's own; its move command line runs with the test's paths and queue.
# Every file moved is printed by the step once, a redelivered message
# (its event published again, the same message_id) is not printed again.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

topo_names readme-events
declared+=("$q.next")
events_x=$q.events
on_exit+=('"$PY3" "$TESTS_DIR/events_tool.py" delete-exchange "$url" "$events_x" >/dev/null 2>&1')
README=$SOURCE_DIR/README.md
[ -f "$README" ] || README=$TESTS_DIR/../README.md
sed -n '/^# scanmove: on-moved$/,/^# scanmove: end$/p' "$README" >"$WORK/step.py"
checks=$((checks + 1))
grep -q 'start_consuming' "$WORK/step.py" || fail "README's next step is not there"
printf '%s\n' "$url" >"$WORK/url"
sed -i -e "s|/etc/scanmove/url|$WORK/url|" -e "s|\"archive\\.|\"$q.|g" "$WORK/step.py"
line=$(grep '^scanmove move .*--publish-moved' "$README" | head -1)
checks=$((checks + 1))
[ -n "$line" ] || fail "README's move command line is not there"
I=$WORK/intake A=$WORK/archive
mkdir -p "$I/a" "$A"
args=${line#scanmove move }
args=${args//--queue archive/--queue $q --exchange $ex}
args=${args//--publish-moved archive./--publish-moved $q.}
args=${args//\/srv\/intake/$I}
args=${args//\/srv\/archive/$A}
args=${args//\/etc\/scanmove\/url/$WORK/url}

"$PY3" "$WORK/step.py" >"$WORK/step.out" 2>"$WORK/step.err" &
bg_pids=($!)
wait_until 20 "the step consumes" sh -c '[ "$("$1" "$2" count "$3" "$4" 2>/dev/null | cut -d" " -f2)" = 1 ]' \
    sh "$PY3" "$AMQP" "$url" "$q.next" || true
for i in 1 2 3 4 5; do echo "file $i" >"$I/a/f$i.txt"; done
scanq "$I"
"$PY3" "$AMQP" peek "$url" "$q" 10 "$WORK/msgs" >/dev/null
# shellcheck disable=SC2086 # the README's words
run env AMQP_URL= timeout 60 "$MOVE" $args --idle-exit 2s
expect_rc 0 "README's move --publish-moved"
wait_until 20 "the step prints five files" sh -c '[ "$(wc -l <"$1")" -ge 5 ]' sh "$WORK/step.out" || true
# A redelivery: the event comes again, with the same message_id.
"$PY3" - "$WORK/msgs" "$WORK/one" <<'PYEOF'
import base64, json, sys
info = json.loads(open(sys.argv[1]).readline())
open(sys.argv[2], "wb").write(base64.b64decode(info["body_b64"]))
PYEOF
publish "$WORK/one"
# shellcheck disable=SC2086 # the README's words
run env AMQP_URL= timeout 60 "$MOVE" $args --idle-exit 2s --json
expect_rc 0 "README's move, a redelivery"
pycheck "the redelivery: --json summary" jcheck "$WORK/out" duplicates=1 events_published=1
sleep 1
wait_until 20 "the step took every event" sh -c '[ "$("$1" "$2" count "$3" "$4" 2>/dev/null | cut -d" " -f1)" = 0 ]' \
    sh "$PY3" "$AMQP" "$url" "$q.next" || true
kill "${bg_pids[0]}" 2>/dev/null || true
sort "$WORK/step.out" >"$WORK/got"
for i in 1 2 3 4 5; do echo "$(realpath "$A")/a/f$i.txt"; done >"$WORK/want"
checks=$((checks + 1))
cmp -s "$WORK/want" "$WORK/got" || fail "the step printed: $(head -c 600 "$WORK/step.out") $(head -c 600 "$WORK/step.err")"
finish
