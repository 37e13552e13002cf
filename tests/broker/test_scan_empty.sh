#!/usr/bin/env bash
# Against the private broker: an empty directory publishes nothing.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/scan_lib.sh"

# --- an empty directory publishes nothing ------------------------------------------------
topo_names empty
mkdir "$WORK/empty"
scanq --json "$WORK/empty"
expect_rc 0 "empty directory"
expect_eq "$(summary files)" 0 "empty directory: no files"
expect_re err '^scan: notice: 0 files: 0 published, 0 rejected, 0 failed in ' "empty directory summary line"
expect_eq "$(scan_count)" 0 "empty directory: empty queue"

finish
