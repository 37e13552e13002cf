#!/usr/bin/env bash
# Soak (issue 5, scenario 8): 200,000 real files through scan and three
# movers, with one mover killed (SIGKILL) and restarted, and one broker
# restart along the way. The resident memory of scan and of every mover is
# sampled every second: it must stay flat (the peak is reported), and the
# audit must pass at the end.
#
# Long (minutes) and heavy, so it runs only when SCANMOVE_SOAK=1 (never in
# CI); otherwise it says SKIP and exits 77 (skipped). SOAK_FILES sets the number of
# files (default 200000); SOAK_DIR where the corpus is kept between runs
# (default /tmp/scanmove-soak; it is built by bench/mkcorpus.sh).
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
if [ "${SCANMOVE_SOAK:-0}" != 1 ]; then
    echo "SKIP: the soak runs only with SCANMOVE_SOAK=1" >&2
    exit 77
fi
. "$TESTS_DIR/broker/lib.sh"
AUDIT=$TESTS_DIR/audit.sh
PY=$TESTS_DIR/move_util.py
N=${SOAK_FILES:-200000}
SOAK_DIR=${SOAK_DIR:-/tmp/scanmove-soak}

q=faults-soak-$$
ex=faults-soak-ex-$$
declared=("$q")
pids=()
# shellcheck disable=SC2016 # evaluated at exit
extra_cleanup='for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
pkill -KILL -f -- "--queue $q " 2>/dev/null'

mkdir -p "$SOAK_DIR"
"$SOURCE_DIR/bench/mkcorpus.sh" "$SOAK_DIR/corpus-$N" "$N" >&2
R=$WORK/root
D=$WORK/dest
cp -a "$SOAK_DIR/corpus-$N" "$R"
mkdir -p "$D"
"$AUDIT" snapshot "$R" >"$WORK/root.manifest"
ndest() { find "$D" -type f | wc -l; }

# Every second: "seconds tool pid rss-kib" for scan and each move of ours.
(
    t0=$(date +%s)
    while :; do
        for p in $(pgrep -f -- "--queue $q " || true); do
            comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
            rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
            [ -n "$rss" ] && echo "$(($(date +%s) - t0)) $comm $p $rss"
        done
        sleep 1
    done
) >"$WORK/rss" &
sampler=$!
pids+=("$sampler")

scan_once() { # scan_once NAME
    set +e
    env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q --json "$R" \
        >"$WORK/scan.$1" 2>"$WORK/scan.$1.err"
    echo $? >"$WORK/scan.$1.rc"
    set -e
}
mover() { # mover I : start mover I, its pid in mpid[I]
    env AMQP_URL="$url" "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
        --idle-exit 15s --reconnect-timeout 2m --json >"$WORK/move.$1.$SECONDS" 2>>"$WORK/move.$1.err" &
    mpid[$1]=$!
    pids+=($!)
}

scan_once 1 &
scanner=$!
declare -A mpid=()
for i in 1 2 3; do mover "$i"; done
killed=0
restarted=0
while :; do
    n=$(ndest)
    if [ "$killed" = 0 ] && [ "$n" -ge $((N * 3 / 10)) ]; then
        kill -KILL "${mpid[2]}" 2>/dev/null || true
        wait "${mpid[2]}" 2>/dev/null || true
        mover 2
        killed=1
        echo "soak: mover 2 killed and restarted at $n files" >&2
    fi
    if [ "$restarted" = 0 ] && [ "$n" -ge $((N * 6 / 10)) ]; then
        "$BROKER_SH" restart >/dev/null
        restarted=1
        echo "soak: broker restarted at $n files" >&2
    fi
    if ! kill -0 "${mpid[1]}" 2>/dev/null && ! kill -0 "${mpid[2]}" 2>/dev/null &&
        ! kill -0 "${mpid[3]}" 2>/dev/null; then
        break
    fi
    sleep 1
done
wait "$scanner" || true
rc1=$(cat "$WORK/scan.1.rc")
checks=$((checks + 1))
case "$rc1" in
    0 | 69) ;;
    *) fail "scan: exit $rc1: $(head -c 400 "$WORK/scan.1.err")" ;;
esac
# Whatever scan could not get confirmed (a restart mid-scan) is still at
# the source: scan again and drain.
if [ "$(ndest)" -lt "$N" ]; then
    scan_once 2
    expect_eq "$(cat "$WORK/scan.2.rc")" 0 "the second scan exits 0"
    for i in 1 2 3; do mover "$i"; done
    wait "${mpid[1]}" "${mpid[2]}" "${mpid[3]}" || true
fi
kill "$sampler" 2>/dev/null || true

run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" --manifest "$WORK/root.manifest"
expect_rc 0 "the audit passes"
expect_re out "$N files: $N at DEST" "every file at DEST"
expect_eq "$(count) $(count "$q.dead")" "0 0" "both queues empty"
expect_eq "$killed $restarted" "1 1" "one mover kill and one broker restart happened"

# Memory: the peak of each tool, and flat: the last third's peak is no more
# than the first third's plus 25% and 4 MiB.
rc=0
"$PY3" - "$WORK/rss" >"$WORK/rss.report" <<'EOF' || rc=$?
import sys
rows = [l.split() for l in open(sys.argv[1]) if len(l.split()) == 4]
bad = 0
for tool in ("scan", "move"):
    pts = [(int(t), int(r)) for t, c, p, r in rows if c == tool]
    if not pts:
        print("no samples of", tool); bad = 1; continue
    end = max(t for t, _ in pts) or 1
    first = max([r for t, r in pts if t <= end / 3] or [0])
    last = max([r for t, r in pts if t >= 2 * end / 3] or [0])
    peak = max(r for _, r in pts)
    flat = last <= first * 1.25 + 4096
    print("%s: peak RSS %.1f MiB over %d s (%d samples); first third %.1f, last third %.1f MiB: %s"
          % (tool, peak / 1024, end, len(pts), first / 1024, last / 1024,
             "flat" if flat else "GROWING"))
    bad |= not flat
sys.exit(bad)
EOF
checks=$((checks + 1))
[ "$rc" = 0 ] || fail "memory: $(cat "$WORK/rss.report")"
cat "$WORK/rss.report" >&2

finish
