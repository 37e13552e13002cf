#!/usr/bin/env bash
# Against the private broker: --routing-key: the queue is bound with that
# key and gets the messages.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/scan_lib.sh"

make_names "$WORK/names"
# Another routing key: the queue is bound with it and gets the messages.
topo_names key
scanq --routing-key "rk-$tag" --json "$WORK/names"
expect_rc 0 "--routing-key"
expect_eq "$(scan_count --routing-key "rk-$tag")" 8 "--routing-key: queue bound with that key"
expect_eq "$(drain 100)" 8 "--routing-key: messages"
pycheck "--routing-key: AMQP properties" props "$WORK/bodies" "$WORK/props" "$ex" "rk-$tag"

finish
