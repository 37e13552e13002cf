#!/usr/bin/env bash
# Cluster scenario "A follower dies" (issue 12): 3 nodes, 20,000 files
# queued through c1, which leads the quorum queue (a member on every node);
# three movers, each given all three URLs in another order (--url-order
# ordered: c1 c2 c3, c2 c3 c1, c3 c1 c2); c2, which leads nothing, is
# killed with SIGKILL while they consume. The movers finish through the
# other nodes within 60 s, c2 still down; then c2 is started again and the
# audit passes (every file at DEST exactly once and byte-identical, nothing
# at the source, no strays, queue and dead-letter queue empty).
. "$(dirname "$0")/lib.sh"

kill_mid_move follower 20000 2
finish
