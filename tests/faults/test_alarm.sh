#!/usr/bin/env bash
# Broker alarm: with its free-disk limit raised above the free space, the
# broker blocks publishers (connection.blocked). scan must say so on stderr,
# with the broker's reason, instead of hanging silently (docs/scan.1,
# --blocked-timeout); (a) when the alarm clears while scan waits, scan
# finishes and exits 0 with every message in the queue; (b) with the alarm
# left on, scan gives up after --blocked-timeout with exit status 75 and a
# last line saying how many messages were not confirmed. Both on a small
# tree (20 files: scan has published them all and waits for their confirms
# when the broker blocks it) and, for (b), on a larger one (2000 files:
# blocked while publishing). The disk limit is restored in the EXIT trap.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/faults/faults.sh"
unset SCANMOVE_JOBS

mkdir "$WORK/small" "$WORK/large"
for i in $(seq 20); do echo "$i" >"$WORK/small/f$i"; done
"$PY3" - "$WORK/large" <<'PYEOF'
import os, sys
for i in range(2000):
    d = os.path.join(sys.argv[1], "d%d" % (i % 10))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%d" % i), "w") as f:
        f.write("%d\n" % i)
PYEOF

said_blocked() { grep -q 'blocked' "$WORK/err"; }

# --- (a) the alarm clears while scan waits ----------------------------------------
q=fault-alarm-a-$tag
ex=fault-alarm-a-ex-$tag
declared+=("$q")
alarm_on || fail "(a): the disk alarm did not go on within 30 s: $(alarms)"
bg_start env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" --no-mime --json "$WORK/small"
checks=$((checks + 1))
wait_for 60 connection_blocked ||
    fail "(a): the broker did not block scan's connection within 60 s: $(ctl list_connections name state 2>&1 | tail -n +2)"
# scan reads the broker's connection.blocked at once (it waits for confirms);
# 20 s is generous for it to say so.
checks=$((checks + 1))
wait_for 20 said_blocked ||
    fail "(a): scan, blocked by the broker for 20 s, said nothing on stderr: '$(head -c 600 "$WORK/err")'"
expect_in err "low on disk" "(a): scan gives the broker's reason"
checks=$((checks + 1))
kill -0 "$bg" 2>/dev/null || fail "(a): scan did not wait for the alarm to clear"
alarm_off || fail "(a): the disk alarm did not clear within 30 s: $(alarms)"
bg_wait 120
expect_rc 0 "(a): scan once the alarm cleared, $bg_how"
expect_eq "$(summary published)" 20 "(a): published"
expect_eq "$(qcount "$q")" 20 "(a): every message in the queue"

# --- (b) the alarm stays on: exit 75 after --blocked-timeout ----------------------
# blocked_gives_up WHAT TREE N : scan TREE (N files) with the alarm on and a
# 5 s --blocked-timeout.
blocked_gives_up() {
    local what=$1 tree=$2 n=$3 t0 published unconfirmed
    q=fault-alarm-$what-$tag
    ex=fault-alarm-$what-ex-$tag
    declared+=("$q")
    alarm_on || fail "$what: the disk alarm did not go on within 30 s: $(alarms)"
    t0=$SECONDS
    # --requeue-after 0: the small tree was published (and marked) above.
    bg_start env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" --no-mime --json \
        --rejects "$WORK/rej" --blocked-timeout 5s --requeue-after 0 "$tree"
    # 5 s of --blocked-timeout, plus ample time to connect and publish.
    bg_wait 45
    expect_rc 75 "$what: scan with the alarm left on and --blocked-timeout 5s, $bg_how after $((SECONDS - t0)) s"
    expect_re err '^scan: warning: broker blocked publishing: low on disk' \
        "$what: scan says it is blocked, and why"
    expect_re err "^scan: error: gave up publishing: .*low on disk.*: [0-9]+ messages? (was|were) not confirmed\$" \
        "$what: the last line says why scan gave up, and how many messages were not confirmed"
    published=$(summary published)
    unconfirmed=$(sed -En 's/.*: ([0-9]+) messages? (was|were) not confirmed$/\1/p' "$WORK/err" | tail -1)
    checks=$((checks + 1))
    case "$published" in
        *[!0-9]* | '') fail "$what: no --json summary: $published" ;;
        *)
            expect_eq "$((published + ${unconfirmed:-0}))" "$n" \
                "$what: every file published or not confirmed"
            expect_eq "$(grep -c '"reason":"unconfirmed"' "$WORK/rej" || true)" \
                "${unconfirmed:-none}" "$what: one --rejects line per message not confirmed"
            ;;
    esac
    alarm_off || fail "$what: the disk alarm did not clear within 30 s: $(alarms)"
}
blocked_gives_up small "$WORK/small" 20
blocked_gives_up large "$WORK/large" 2000

finish
