#!/usr/bin/env bash
# Fault: scan run from cron while no mover runs (issue 11). One directory is
# scanned 10 times, 3 of them at once (--wait: the per-root lock makes them
# take turns), with no mover: the queue must hold exactly one message per
# accepted file. Two movers then move each file once. One file cannot be
# moved (its directory is not writable by the movers' user): it is
# dead-lettered once, and 5 further scans leave the dead-letter queue at one
# letter for it, not 5.
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
AUDIT=$TESTS_DIR/audit.sh
umask 022

. "$TESTS_DIR/faults/faults.sh"
PY=$TESTS_DIR/move_util.py # for jnum
q=faults-cron-$tag
ex=faults-cron-ex-$tag
declared+=("$q")
pids=()

can_be_nobody ||
    skip "setpriv cannot drop to nobody here"

N=300
R=$WORK/root
D=$WORK/dest
mkdir -p "$R" "$D"
chmod 755 "$WORK"
"$PY3" - "$R" "$N" <<'PYEOF'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(top, "d%d" % (i % 10))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%03d.txt" % i), "w") as f:
        f.write("file %d\n" % i)
PYEOF
# The movers run as nobody: the tree and DEST are theirs, but for one
# directory that only root may change.
chown -R nobody:nogroup "$R" "$D"
mkdir "$R/locked"
echo "stuck" >"$R/locked/stuck.txt"
"$AUDIT" snapshot "$R" >"$WORK/root.manifest"

scan_once() { # scan_once NAME [OPTIONS] : one cron run of scan, --json into $WORK/scan.NAME
    local name=$1
    shift
    (
        set +e
        env AMQP_URL="$url" timeout 120 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q \
            --json "$@" "$R" >"$WORK/scan.$name" 2>"$WORK/scan.$name.err"
        echo $? >"$WORK/scan.$name.rc"
    )
}

published=0
for i in 1 2 3 4 5 6 7; do
    scan_once "$i"
    expect_eq "$(cat "$WORK/scan.$i.rc")" 0 "scan $i exits 0"
    published=$((published + $("$PY3" "$PY" jnum "$WORK/scan.$i" published)))
done
for i in 8 9 10; do
    scan_once "$i" --wait &
    pids+=($!)
done
wait "${pids[@]}"
pids=()
for i in 8 9 10; do
    expect_eq "$(cat "$WORK/scan.$i.rc")" 0 "concurrent scan $i exits 0"
    published=$((published + $("$PY3" "$PY" jnum "$WORK/scan.$i" published)))
done
expect_eq "$published" $((N + 1)) "10 scans published each file once"
expect_eq "$(count)" $((N + 1)) "the queue holds one message per file"
depth=$(count)

for i in 1 2; do
    (
        set +e
        env AMQP_URL="$url" timeout 120 "${AS_NOBODY[@]}" \
            "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" --idle-exit 2s --json \
            >"$WORK/move.$i" 2>"$WORK/move.$i.err"
        echo $? >"$WORK/move.$i.rc"
    ) &
    pids+=($!)
done
wait "${pids[@]}"
pids=()
moved=$(($("$PY3" "$PY" jnum "$WORK/move.1" moved) + $("$PY3" "$PY" jnum "$WORK/move.2" moved)))
dups=$(($("$PY3" "$PY" jnum "$WORK/move.1" duplicates) + $("$PY3" "$PY" jnum "$WORK/move.2" duplicates)))
expect_eq "$moved" "$N" "two movers moved each file once"
expect_eq "$dups" 0 "and met no duplicate"
expect_eq "$(count "$q.dead")" 1 "the stuck file is dead-lettered"

for i in 11 12 13 14 15; do
    scan_once "$i"
    expect_eq "$(cat "$WORK/scan.$i.rc")" 0 "scan $i exits 0"
done
expect_eq "$("$PY3" "$PY" jnum "$WORK/scan.15" already_queued)" 1 "the stuck file is already queued"
expect_eq "$(count) $(count "$q.dead")" "0 1" "5 more scans: still one letter for it, none queued"
run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" --manifest "$WORK/root.manifest"
expect_rc 0 "the audit passes"
echo "cron cycle: 10 scans left $depth messages for $((N + 1)) files; after 5 more, $(count "$q.dead") dead letter" >&2

finish
