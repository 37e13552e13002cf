#!/usr/bin/env bash
# Cluster scenario "The leader dies" (issue 12): as test_follower_dies.sh,
# but the node killed while the three movers consume is the one leading
# the quorum queue (tests/cluster.sh leader: c1, through which it was
# declared). A follower becomes leader; the movers finish within 60 s with
# the old leader still down, each file moved once; then it is started
# again and the audit passes.
. "$(dirname "$0")/lib.sh"

kill_mid_move leader 20000 leader
finish
