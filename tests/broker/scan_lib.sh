# tests/broker/scan_lib.sh - helpers of the scan tests against the private
# broker (tests/broker/test_scan_*.sh; sourced after ../lib.sh, not run).
# Messages are taken off the queues with basic.get by tests/amqp_tool.py
# (amqp-consume forks a command per message and shows no properties), and
# checked by tests/scan_check.py.
. "$TESTS_DIR/broker/lib.sh"
unset SCANMOVE_JOBS
PY=$TESTS_DIR/scan_check.py
prefix=scan

# summary KEY : a key of the --json summary of the last run.
summary() { "$PY3" "$PY" get "$WORK/out" "$1" 2>&1 || true; }

# scanq ARGS... : scan into $q through $ex.
scanq() { run env AMQP_URL="$url" timeout 300 "$SCAN" --queue "$q" --exchange "$ex" "$@"; }

# scan_count [OPTIONS] : the number of messages in $q, as scan --check
# reports it (it declares nothing new: the topology exists already).
scan_count() {
    env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex" "$@" |
        sed -n "s/.*queue '[^']*' ([a-z]*) has \([0-9]*\) messages and.*/\1/p"
}

# drain MAX : take up to MAX messages off $q (acknowledged, so gone) into
# $WORK/bodies and their properties into $WORK/props; prints how many.
drain() { "$PY3" "$AMQP" drain "$url" "$q" "$1" "$WORK/bodies" "$WORK/props"; }

# make_names DIR : eight files with awkward names below DIR.
make_names() {
    local f
    mkdir -p "$1/dir"$'\xff'
    for f in "with space.txt" $'new\nline.txt' "-dash.txt" $'\xff\xfe.bin' 'q"uo\te.txt' \
        $'tab\there' "café.txt" "dir"$'\xff'"/inner"; do
        printf 'x' >"$1/$f"
    done
}

# make_many DIR : 20,000 one-byte files in 20 directories below DIR.
make_many() {
    "$PY3" - "$1" <<'PYEOF'
import os, sys
for i in range(20000):
    d = os.path.join(sys.argv[1], "d%d" % (i % 20))
    if i < 20:
        os.makedirs(d)
    with open(os.path.join(d, "f%d" % i), "w") as f:
        f.write("x")
PYEOF
}
