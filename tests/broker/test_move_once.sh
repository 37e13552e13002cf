#!/usr/bin/env bash
# Against the private broker: overlapping scans, the same tree scanned twice
# at the same time, and two movers: each file lands once, the second message
# of each file is a duplicate, and a name taken at DEST gets one conflict
# copy, not two. The contract is docs/move.1 (DUPLICATES AND REDELIVERIES).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

prefix=once

# --- overlapping scans: two messages per file, two movers --------------------------------
topo overlap
O=$WORK/overlap
R=$O/root
D=$O/dest
mkdir -p "$R" "$D/d0"
for d in 0 1 2 3 4; do
    mkdir -p "$R/d$d"
    for f in $(seq 0 99); do
        printf 'file %s/%s of the overlap test\n' "$d" "$f" >"$R/d$d/f$f.txt"
    done
done
# Twenty names already taken at DEST by other files.
for f in $(seq 0 19); do
    printf 'an older file %s, already at DEST\n' "$f" >"$D/d0/f$f.txt"
done
# What DEST must hold at the end: every source file once, the incoming
# file of each taken name as name.1.txt beside the older one.
cp -a "$R" "$O/want"
for f in $(seq 0 19); do
    mv "$O/want/d0/f$f.txt" "$O/want/d0/f$f.1.txt"
    cp -a "$D/d0/f$f.txt" "$O/want/d0/f$f.txt"
done
for i in 1 2; do
    # Both publish every file: the second waits for the first's lock on the
    # root, and --requeue-after 0 makes it ignore the marks (scan(1) MARKS).
    (env AMQP_URL="$url" timeout 120 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q \
        --wait --requeue-after 0 "$R"
        echo $? >"$O/scan.rc$i") &
done
wait
expect_eq "$(cat "$O/scan.rc1") $(cat "$O/scan.rc2")" "0 0" "overlap: both scans exit 0"
expect_eq "$(count)" 1000 "overlap: two messages for each of the 500 files"
for i in 1 2; do
    (
        set +e
        env AMQP_URL="$url" timeout 120 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" \
            --to "$D" --idle-exit 2s --prefetch 4 --json >"$O/out$i" 2>"$O/err$i"
        echo $? >"$O/rc$i"
    ) &
done
wait
expect_eq "$(cat "$O/rc1") $(cat "$O/rc2")" "0 0" "overlap: both movers exit 0"
expect_eq "$(jsum moved "$O/out1" "$O/out2")" 500 "overlap: 500 files moved in all"
expect_eq "$(jsum duplicates "$O/out1" "$O/out2")" 500 \
    "overlap: the 500 second messages are duplicates"
expect_eq "$(jsum dead_lettered "$O/out1" "$O/out2")" 0 "overlap: nothing dead-lettered"
expect_same_tree "$O/want" "$D" "overlap: every file once at DEST, one conflict copy per taken name"
expect_eq "$(find "$R" -type f | wc -l)" 0 "overlap: nothing left at the source"
expect_eq "$(count)" 0 "overlap: the queue is empty"
expect_eq "$(count "$q.dead")" 0 "overlap: the dead-letter queue is empty"

finish
