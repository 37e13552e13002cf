#!/usr/bin/env bash
# Against the private broker: scan publishes exactly one confirmed, persistent
# message per accepted file (3000 files), with the documented body and AMQP
# properties, and a --json summary that agrees with the queue and --rejects.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/scan_lib.sh"

# --- 3000 files: one message per accepted file, with the right fields ---------
topo_names big
t=$WORK/big
"$PY3" - "$t" <<'PYEOF'
import os, sys
t = sys.argv[1]
for i in range(3000):
    d = os.path.join(t, "d%d" % (i % 6), "e%d" % (i % 4))
    os.makedirs(d, exist_ok=True)
    name = "f%d.tmp" % i if i % 10 == 0 else "f%d.dat" % i
    with open(os.path.join(d, name), "w") as f:
        f.write("%d\n" % i * (i % 7))
for i in range(5):
    open(os.path.join(t, "d1", ".h%d" % i), "w").close()
PYEOF
scanq --exclude '*.tmp' --json --rejects "$WORK/rej" "$t"
expect_rc 0 "scan of 3005 entries"
expect_lines out 1 "only the --json summary on stdout"
expect_eq "$(summary published)" 2700 "published"
expect_eq "$(summary rejected_by_reason)" '{"excluded": 300, "hidden": 5}' "rejected by reason"
expect_eq "$(summary dry_run)" false "summary dry_run"
expect_re err '^scan: notice: 3005 files: 2700 published, 305 rejected, 0 failed in [0-9]+\.[0-9]{2} s \([0-9]+ files/s\)$' \
    "summary line"
expect_eq "$(scan_count)" 2700 "the queue holds one message per accepted file"
expect_eq "$(drain 5000)" 2700 "messages taken off the queue"
pycheck "every message matches its file" checkmsg present "$WORK/bodies"
pycheck "the --json summary agrees with the queue and --rejects" summary false "$WORK/bodies" \
    "$WORK/rej" "$WORK/out"
pycheck "AMQP properties" props "$WORK/bodies" "$WORK/props" "$ex" "$q"
checks=$((checks + 1))
find "$t" -type f -name '*.dat' -printf '%P\n' | sort >"$WORK/want"
"$PY3" "$PY" paths "$WORK/bodies" | sort >"$WORK/got"
cmp -s "$WORK/want" "$WORK/got" || fail "the queue does not hold exactly the accepted files: $(diff "$WORK/want" "$WORK/got" | head -5)"
checks=$((checks + 1))
[ -z "$("$PY3" "$PY" ids "$WORK/bodies" | uniq -d)" ] || fail "duplicate ids in one scan"
expect_eq "$(scan_count)" 0 "the queue is empty once drained"

finish
