#!/usr/bin/env bash
# Against the private broker: awkward names arrive intact, as the dry run
# prints them; a rerun with --requeue-after 0 publishes every file again
# (same ids).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/scan_lib.sh"

# --- awkward names arrive intact; a rerun publishes again ---------------------------
topo_names names
t=$WORK/names
make_names "$t"
run "$SCAN" --dry-run "$t"
expect_rc 0 "dry run of the names"
cp "$WORK/out" "$WORK/dry"
expect_lines out 8 "eight messages in the dry run"
scanq -q "$t"
expect_rc 0 "scan of the names"
expect_lines err 0 "-q: nothing on stderr"
expect_lines out 0 "nothing on stdout without --json"
scanq -q --requeue-after 0 "$t"
expect_rc 0 "second scan of the names"
expect_eq "$(scan_count)" 16 "a rerun publishes every file again"
expect_eq "$(drain 100)" 16 "messages of the names taken off the queue"
pycheck "names reach the queue intact (as the dry run printed them), twice" times 2 \
    "$WORK/dry" "$WORK/bodies"
pycheck "names: messages match their files" checkmsg present "$WORK/bodies"
pycheck "names: AMQP properties" props "$WORK/bodies" "$WORK/props" "$ex" "$q"

finish
