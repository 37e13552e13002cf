#!/usr/bin/env bash
# Fault: overlapping scans (issue 5, scenario 5).
#
# The same directory is scanned twice at the same time, then movers start,
# and a third scan of it runs while they move. Since issue 11 the second scan
# waits (--wait) for the first one's lock on the root, then finds every file
# already queued (marked): the queue holds one message per file. Every file
# must land once at DEST, any message the third scan publishes being
# recognised as a duplicate (no name.1.ext conflict copies); the third scan
# may find files vanishing under it (moved meanwhile), which it reports as
# failed.
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
AUDIT=$TESTS_DIR/audit.sh
umask 022

. "$TESTS_DIR/faults/faults.sh"
PY=$TESTS_DIR/move_util.py # for pycheck and jnum
q=faults-overlap-$tag
ex=faults-overlap-ex-$tag
declared+=("$q")
pids=()
# shellcheck disable=SC2016 # expanded by faults_cleanup
extra_cleanup='for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done'

N=5000
R=$WORK/root
D=$WORK/dest
mkdir -p "$R" "$D"
"$PY3" - "$R" "$N" <<'EOF'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(top, "d%02d" % (i % 50), "e%d" % (i % 3))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d.txt" % i), "w") as f:
        f.write("file %d of the overlap scenario\n" % i * (1 + i % 7))
EOF
"$AUDIT" snapshot "$R" >"$WORK/root.manifest"

scan_bg() { # scan_bg NAME : scan ROOT in the background, its pid in $pid
    (
        set +e
        env AMQP_URL="$url" timeout 300 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q \
            --wait --json "$R" >"$WORK/scan.$1" 2>"$WORK/scan.$1.err"
        echo $? >"$WORK/scan.$1.rc"
    ) &
    pid=$!
}

scan_bg 1
s1=$pid
scan_bg 2
s2=$pid
wait "$s1" "$s2"
expect_eq "$(cat "$WORK/scan.1.rc") $(cat "$WORK/scan.2.rc")" "0 0" "both first scans exit 0"
expect_eq "$(count)" "$N" "one message for each file"
expect_eq "$(($("$PY3" "$PY" jnum "$WORK/scan.1" already_queued) + $("$PY3" "$PY" jnum "$WORK/scan.2" already_queued)))" \
    "$N" "the scan that waited found every file already queued"

for i in 1 2; do
    (
        set +e
        env AMQP_URL="$url" timeout 300 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" \
            --to "$D" --prefetch 16 --idle-exit 3s --json >"$WORK/move.$i" 2>"$WORK/move.$i.err"
        echo $? >"$WORK/move.$i.rc"
    ) &
    pids+=($!)
done
# The third scan, once the movers are under way.
for _ in $(seq 200); do
    [ "$(find "$D" -type f | head -n 100 | wc -l)" -ge 100 ] && break
    sleep 0.1
done
scan_bg 3
wait "$pid"
wait "${pids[@]}"
pids=()

rc3=$(cat "$WORK/scan.3.rc")
checks=$((checks + 1))
case "$rc3" in
    0 | 1) ;;
    *) fail "third scan: exit $rc3 (0, or 1 when files vanished under it): $(head -c 400 "$WORK/scan.3.err")" ;;
esac
pub3=$("$PY3" "$PY" jnum "$WORK/scan.3" published)
failed3=$("$PY3" "$PY" jnum "$WORK/scan.3" failed)
checks=$((checks + 1))
"$PY3" -c '
import json, sys
s = json.load(open(sys.argv[1]))
bad = {k: v for k, v in s.get("failed_by_reason", {}).items() if k != "vanished" and v}
sys.exit(1 if bad else 0)' "$WORK/scan.3" ||
    fail "third scan: failures other than vanished: $(cat "$WORK/scan.3")"
for i in 1 2; do expect_eq "$(cat "$WORK/move.$i.rc")" 0 "mover $i exits 0"; done
moved=0
dups=0
dead=0
for i in 1 2; do
    moved=$((moved + $("$PY3" "$PY" jnum "$WORK/move.$i" moved)))
    dups=$((dups + $("$PY3" "$PY" jnum "$WORK/move.$i" duplicates)))
    dead=$((dead + $("$PY3" "$PY" jnum "$WORK/move.$i" dead_lettered)))
done
expect_eq "$moved" "$N" "every file moved once"
expect_eq "$dups" "$pub3" "every other message a duplicate"
expect_eq "$dead" 0 "nothing dead-lettered"
expect_eq "$(find "$D" -name '*.1.txt' | wc -l)" 0 "no conflict copies"
run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" --manifest "$WORK/root.manifest"
expect_rc 0 "the audit passes"
expect_re out "$N files: $N at DEST" "the audit finds every file at DEST"
expect_eq "$(count) $(count "$q.dead")" "0 0" "both queues empty"
echo "overlap: 3 scans published $((N + pub3)) messages for $N files ($failed3 vanished under the third); $dups duplicates handled" >&2

finish
