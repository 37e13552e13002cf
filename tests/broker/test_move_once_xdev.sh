#!/usr/bin/env bash
# Against the private broker, cross-device moves (DEST on a tmpfs in a private
# mount namespace; skipped, exit 77, where none can be mounted), each file moved
# exactly once when it has several deliveries at once:
#  - another process holds a lock on the source: the mover waits for it (as it
#    waits for another mover copying the same file), then moves the file;
#  - the broker's consumer timeout takes a delivery back while its mover is
#    still busy with it and gives it to another mover: the file still lands
#    once, and the message ends acknowledged, not dead-lettered;
#  - conflicts through named temporaries: a copy finished before a crash, a
#    name DEST holds, a temporary left half-way, a finished name.1.ext copy.
# The contract is docs/move.1 (DUPLICATES AND REDELIVERIES).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

prefix=once

restore_timeout=
# shellcheck disable=SC2016 # evaluated at exit
extra_cleanup='[ -z "$restore_timeout" ] || ctl eval "$restore_timeout" >/dev/null 2>&1'
need_mount_ns

# --- cross-device: a lock on the source, then the consumer timeout -----------------------
# Both need DEST on another file system: a tmpfs in a private mount
# namespace, where the whole part runs.
topo lock
q_lock=$q
ex_lock=$ex
topo conflicts
q_conf=$q
ex_conf=$ex
topo renamed
q_ren=$q
ex_ren=$ex
topo timeout
X=$WORK/xdev
mkdir -p "$X/lroot" "$X/ldest" "$X/troot" "$X/tdest" "$X/croot" "$X/cdest"
# Conflicts across filesystems, copying through a named temporary (as on
# NFS): a copy finished before a crash (same bytes at DEST, the source
# still there), a name DEST holds with other bytes (--on-conflict skip),
# and a plain file whose earlier copy died half-way, leaving its temporary.
head -c 300000 /dev/urandom >"$X/croot/copied.bin"
echo "the incoming taken.txt" >"$X/croot/taken.txt"
head -c 300000 /dev/urandom >"$X/croot/plain.bin"
touch -d @1500000000.5 "$X/croot/copied.bin" "$X/croot/plain.bin"
cp -a "$X/croot" "$X/croot.orig"
env AMQP_URL="$url" "$SCAN" --queue "$q_conf" --exchange "$ex_conf" --no-mime -q "$X/croot" ||
    fail "conflicts: scan"
# Under --on-conflict rename, a copy finished as name.1.ext before a crash
# kept its source is found there, not copied again as name.2.ext.
mkdir -p "$X/rroot" "$X/rdest"
echo "the incoming report" >"$X/rroot/report.txt"
cp -a "$X/rroot" "$X/rroot.orig"
env AMQP_URL="$url" "$SCAN" --queue "$q_ren" --exchange "$ex_ren" --no-mime -q "$X/rroot" ||
    fail "renamed: scan"
plain_id=$("$PY3" "$PY" msg - "$X/croot" plain.bin "$X/croot/plain.bin" |
    "$PY3" -c 'import json, sys; print(json.load(sys.stdin)["id"])')
head -c 2000000 /dev/urandom >"$X/lroot/locked.bin"
head -c 2000000 /dev/urandom >"$X/troot/slow.bin"
cp -a "$X/lroot" "$X/lroot.orig"
cp -a "$X/troot" "$X/troot.orig"
env AMQP_URL="$url" "$SCAN" --queue "$q_lock" --exchange "$ex_lock" --no-mime -q "$X/lroot" ||
    fail "lock: scan"
env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q "$X/troot" ||
    fail "timeout: scan"

# The broker takes back deliveries unacknowledged for 1.5 s (checked every
# 0.5 s) while this test runs; cleanup restores its settings.
old_timeout=$("$BROKER_SH" ctl eval 'application:get_env(rabbit, consumer_timeout).' 2>/dev/null)
old_tick=$("$BROKER_SH" ctl eval 'application:get_env(rabbit, channel_tick_interval).' 2>/dev/null)
restore() { # restore KEY GET-RESULT : the Erlang call that puts it back
    case "$2" in
        "{ok,"*"}") printf 'application:set_env(rabbit, %s, %s)' "$1" "${2:4:${#2}-5}" ;;
        *) printf 'application:unset_env(rabbit, %s)' "$1" ;;
    esac
}
restore_timeout="$(restore consumer_timeout "$old_timeout"), $(restore channel_tick_interval "$old_tick")."

cat >"$X/inner.sh" <<'EOF'
# In a private mount namespace: DEST directories on a tmpfs.
set -u
X=$1 url=$2 MOVE=$3 PY3=$4 PY=$5 ql=$6 exl=$7 qt=$8 ext=$9 BROKER_SH=${10} qc=${11} exc=${12}
plain_id=${13} qr=${14} exr=${15}
mount -t tmpfs tmpfs "$X/ldest" || exit 90
mount -t tmpfs tmpfs "$X/rdest" || exit 95
echo "an older report" >"$X/rdest/report.txt"
cp -a "$X/rroot/report.txt" "$X/rdest/report.1.txt"
env AMQP_URL="$url" timeout 60 "$MOVE" --queue "$qr" --exchange "$exr" --from "$X/rroot" \
    --to "$X/rdest" --idle-exit 1s --json >"$X/rout" 2>"$X/rerr"
echo $? >"$X/rrc"
(cd "$X/rdest" && ls -A | sort | tr '\n' ' ') >"$X/rafter"
mount -t tmpfs tmpfs "$X/tdest" || exit 91
mount -t tmpfs tmpfs "$X/cdest" || exit 94
[ "$(stat -c %d "$X/ldest")" != "$(stat -c %d "$X/lroot")" ] || exit 92

# Conflicts, through named temporaries.
cp -a "$X/croot/copied.bin" "$X/cdest/copied.bin"
echo "an older taken.txt" >"$X/cdest/taken.txt"
head -c 1000 /dev/urandom >"$X/cdest/.scanmove-$plain_id.tmp"
cp -a "$X/cdest" "$X/cdest.before"
env AMQP_URL="$url" SCANMOVE_TEST_NAMED_TEMP=1 timeout 60 "$MOVE" --queue "$qc" --exchange "$exc" \
    --from "$X/croot" --to "$X/cdest" --idle-exit 1s --on-conflict skip --json \
    >"$X/cout" 2>"$X/cerr"
echo $? >"$X/crc"
"$PY3" "$PY" manifest "$X/cdest" >"$X/cafter"

# Lock: held for 3 s by another process.
"$PY3" "$PY" hold "$X/lroot/locked.bin" 3 "$X/held" &
holder=$!
while [ ! -e "$X/held" ]; do sleep 0.05; done
start=$(date +%s.%N)
env AMQP_URL="$url" timeout 60 "$MOVE" --queue "$ql" --exchange "$exl" --from "$X/lroot" \
    --to "$X/ldest" --idle-exit 1s --json -v >"$X/lout" 2>"$X/lerr"
echo $? >"$X/lrc"
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }' >"$X/lsecs"
wait "$holder"
"$PY3" "$PY" manifest "$X/ldest" >"$X/lafter"

# Consumer timeout: the source is locked for 6 s, the broker takes the
# delivery back after 1.5 s and hands it to the other mover.
"$BROKER_SH" ctl eval 'application:set_env(rabbit, consumer_timeout, 1500), application:set_env(rabbit, channel_tick_interval, 500).' >/dev/null || exit 93
"$PY3" "$PY" hold "$X/troot/slow.bin" 6 "$X/theld" &
holder=$!
while [ ! -e "$X/theld" ]; do sleep 0.05; done
for i in 1 2; do
    (env AMQP_URL="$url" timeout 90 "$MOVE" --queue "$qt" --exchange "$ext" --from "$X/troot" \
        --to "$X/tdest" --idle-exit 12s --json >"$X/tout$i" 2>"$X/terr$i"
        echo $? >"$X/trc$i") &
    sleep 0.5
done
wait
"$PY3" "$PY" manifest "$X/tdest" >"$X/tafter"
EOF
set +e
unshare -m bash "$X/inner.sh" "$X" "$url" "$MOVE" "$PY3" "$PY" "$q_lock" "$ex_lock" "$q" \
    "$ex" "$BROKER_SH" "$q_conf" "$ex_conf" "$plain_id" "$q_ren" "$ex_ren"
rc=$?
set -e
expect_rc 0 "cross-device: the namespace script"
"$BROKER_SH" ctl eval "$restore_timeout" >/dev/null 2>&1 || fail "cannot restore the broker's consumer timeout"
restore_timeout=

expect_eq "$(cat "$X/rrc")" 0 "renamed: move exits 0"
pycheck "renamed: --json summary" jcheck "$X/rout" moved=0 duplicates=1 dead_lettered=0
expect_eq "$(cat "$X/rafter")" "report.1.txt report.txt " \
    "renamed: the copy finished as report.1.txt is the one, no report.2.txt"
expect_eq "$(find "$X/rroot" -type f | wc -l)" 0 "renamed: the source is removed"
expect_eq "$(count "$q_ren")" 0 "renamed: the queue is empty"

expect_eq "$(cat "$X/crc")" 0 "conflicts: move exits 0"
pycheck "conflicts: --json summary" jcheck "$X/cout" moved=1 duplicates=1 skipped=1 \
    dead_lettered=0 requeued=0
# DEST: copied.bin as it was, the older taken.txt, plain.bin moved, and
# no temporary file.
mkdir -p "$X/cwant"
cp -a "$X/croot.orig/copied.bin" "$X/croot.orig/plain.bin" "$X/cwant/"
echo "an older taken.txt" >"$X/cwant/taken.txt"
touch -r "$X/cdest.before/taken.txt" "$X/cwant/taken.txt"
chmod --reference="$X/cdest.before/taken.txt" "$X/cwant/taken.txt"
"$PY3" "$PY" manifest "$X/cwant" >"$X/cwant.m"
expect_eq "$(cat "$X/cafter")" "$(cat "$X/cwant.m")" \
    "conflicts: DEST holds each file once, the older taken.txt, no temporary"
expect_eq "$(cd "$X/croot" && find . -type f | sort | tr '\n' ' ')" "./taken.txt " \
    "conflicts: only the skipped file stays at the source"
expect_eq "$(count "$q_conf")" 0 "conflicts: the queue is empty"

expect_eq "$(cat "$X/lrc")" 0 "lock: move exits 0"
pycheck "lock: --json summary" jcheck "$X/lout" moved=1 duplicates=0 dead_lettered=0 requeued=0
checks=$((checks + 1))
awk -v s="$(cat "$X/lsecs")" 'BEGIN { exit !(s >= 3.0) }' ||
    fail "lock: move took $(cat "$X/lsecs") s: it did not wait for the 3 s lock"
checks=$((checks + 1))
grep -q 'waiting' "$X/lerr" || fail "lock: no 'waiting' line: $(head -c 300 "$X/lerr")"
"$PY3" "$PY" manifest "$X/lroot.orig" >"$X/lwant"
expect_eq "$(cat "$X/lafter")" "$(cat "$X/lwant")" "lock: the file is at DEST, identical"
expect_eq "$(find "$X/lroot" -type f | wc -l)" 0 "lock: the source is gone"
expect_eq "$(count "$q_lock")" 0 "lock: the queue is empty"

expect_eq "$(cat "$X/trc1") $(cat "$X/trc2")" "0 0" "consumer timeout: both movers exit 0"
expect_eq "$(jsum moved "$X/tout1" "$X/tout2")" 1 "consumer timeout: moved once"
expect_eq "$(jsum dead_lettered "$X/tout1" "$X/tout2")" 0 \
    "consumer timeout: nothing dead-lettered"
checks=$((checks + 1))
[ "$(jsum duplicates "$X/tout1" "$X/tout2")" -ge 1 ] ||
    fail "consumer timeout: no redelivery was seen (did the broker time the delivery out?): $(cat "$X/terr1" "$X/terr2" | head -c 600)"
checks=$((checks + 1))
cat "$X/terr1" "$X/terr2" >"$X/terr"
grep -q "consumer_timeout" "$X/terr" ||
    fail "consumer timeout: no mover explained the lost channel: $(head -c 600 "$X/terr")"
"$PY3" "$PY" manifest "$X/troot.orig" >"$X/twant"
expect_eq "$(cat "$X/tafter")" "$(cat "$X/twant")" \
    "consumer timeout: the file is at DEST once, identical, no conflict copy"
expect_eq "$(find "$X/troot" -type f | wc -l)" 0 "consumer timeout: the source is gone"
expect_eq "$(count)" 0 "consumer timeout: the queue is empty"
expect_eq "$(count "$q.dead")" 0 "consumer timeout: the dead-letter queue is empty"

finish
