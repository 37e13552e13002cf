#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1 and docs/message-format.md):
# a message scanned on another host: device numbers are not compared, the
# inode, size and mtime still name the file.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

# --- scanned on another host: device numbers are not compared ---------------------------
# Hosts that mount one NFS export see different device numbers for it; the
# inode, size and mtime still name the file. A scan on this host must match
# the device too.
topo host
R=$WORK/host/root
D=$WORK/host/dest
mkdir -p "$R" "$D"
for f in local far farino; do echo "content of $f" >"$R/$f.txt"; done
dev=$(stat -c %d "$R/local.txt")
B=$WORK/host/bodies
mkdir -p "$B"
"$PY3" "$PY" msg "$B/local" "$R" local.txt "$R/local.txt" "dev=\"$((dev + 1))\""
"$PY3" "$PY" msg "$B/far" "$R" far.txt "$R/far.txt" "dev=\"$((dev + 1))\"" \
    'host="scan-host.elsewhere.example"'
"$PY3" "$PY" msg "$B/farino" "$R" farino.txt "$R/farino.txt" "dev=\"$((dev + 1))\"" \
    'host="scan-host.elsewhere.example"' 'ino="1"'
publish "$B/local" "$B/far" "$B/farino"
moveq --from "$R" --to "$D" --idle-exit 1s --json
expect_rc 1 "other host (1: one was dead-lettered)"
pycheck "other host: --json summary" jcheck "$WORK/out" moved=1 dead_lettered=2 \
    'dead_by_reason={"changed":2}'
expect_files "$D" "other host: the file scanned elsewhere moved, by its inode" "'far.txt'"
expect_files "$R" "other host: a wrong device from this host, a wrong inode from another, stay" \
    "'local.txt'" "'farino.txt'"

finish
