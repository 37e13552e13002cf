#!/usr/bin/env bash
# Logs and signals without a broker (docs/scan.1, docs/move.1: LOGS,
# SIGNALS): every line has a level; --log-format json gives one JSON object
# per line with its fields; the journal's "<N>" prefix only when
# $JOURNAL_STREAM names stderr; --log-file appends, SIGHUP reopens it and
# SIGUSR1 prints one status line while scan waits for a lock; a closed
# stdout ends scan with exit 74 and one sentence.
. "$(dirname "$0")/../lib.sh"

NOBROKER=(--url amqp://guest@127.0.0.1:1/ --connect-timeout 2s)
R=$WORK/root
mkdir -p "$R/sub"
echo small >"$R/a.txt"
head -c 5000 /dev/zero >"$R/big.bin"
printf latin >"$R/caf$(printf '\351').txt"

# --- text: every line has its level --------------------------------------------------------
run "$SCAN" --dry-run --max-size 1K -v "$R"
expect_rc 0 "text: scan --dry-run"
expect_re err '^scan: notice: 3 files: 2 would be published, 1 rejected, 0 failed in ' "text: the summary is a notice"
expect_re err '^scan: info: rejected: \{"root":' "text: a rejection under -v is info"
checks=$((checks + 1))
if grep -Ev '^scan: (error|warning|notice|info|debug): ' "$WORK/err" | grep -q .; then
    fail "text: a line without its level: $(head -c 600 "$WORK/err")"
fi
run "$SCAN" --no-such-option "$R"
expect_rc 64 "text: a usage error"
expect_eq "$(cat "$WORK/err")" "scan: error: unknown option '--no-such-option'
scan: error: Try 'scan --help'." "text: the usage error and its hint, each with its level"

# --- JSON lines ---------------------------------------------------------------------------
run "$SCAN" --dry-run --max-size 1K -v --log-format json "$R"
expect_rc 0 "json: scan --dry-run"
jlines "$WORK/err" "rejected:level=info,tool=scan,reason=too-large,root=$R,path=big.bin" \
    "summary:level=notice,id!,path!"
run env SCANMOVE_LOG_FORMAT=json "$SCAN" --dry-run --max-size 1 -v "$R"
expect_rc 0 "json from SCANMOVE_LOG_FORMAT"
# A name that is not UTF-8: path_b64, and still valid JSON.
jlines "$WORK/err" "rejected:path_b64=Y2Fm6S50eHQ=,path!" "summary:"
run "$MOVE" --log-format json "${NOBROKER[@]}" --from "$WORK/missing" --to "$WORK"
expect_rc 66 "json: move with a missing --from"
jlines "$WORK/err" "error:level=error,tool=move"
expect_lines err 1 "json: move: one line"

# --- the journal's prefix only when JOURNAL_STREAM names stderr ---------------------------
: >"$WORK/err"
js=$(stat -L -c '%d:%i' "$WORK/err")
run env JOURNAL_STREAM="$js" "$SCAN" --dry-run "$R"
expect_re err '^<5>scan: notice: 3 files: ' "journal: <5> before a notice"
run env JOURNAL_STREAM="$js" "$SCAN" --no-such-option "$R"
expect_eq "$(cat "$WORK/err")" "<3>scan: error: unknown option '--no-such-option'
<3>scan: error: Try 'scan --help'." "journal: <3> before each line of a usage error"
run env JOURNAL_STREAM="$js" "$SCAN" --dry-run --log-format json "$R"
expect_re err '^<5>\{"time":' "journal: the prefix before a JSON line too"
run env JOURNAL_STREAM="1:$(stat -L -c '%i' "$WORK/err")" "$SCAN" --dry-run "$R"
expect_re err '^scan: notice: 3 files: ' "journal: another device, no prefix"
run env JOURNAL_STREAM="$(stat -L -c '%d' "$WORK/err"):1" "$SCAN" --dry-run "$R"
expect_re err '^scan: notice: 3 files: ' "journal: another inode, no prefix"
run env JOURNAL_STREAM="$js" "$SCAN" --dry-run --log-file "$WORK/j.log" "$R"
expect_lines err 0 "journal and --log-file: nothing on stderr"
checks=$((checks + 1))
grep -q '^scan: notice: 3 files: ' "$WORK/j.log" || fail "journal and --log-file: no prefix in the file: $(cat "$WORK/j.log")"

# --- --log-file appends; a bad one is exit 73 ---------------------------------------------
run "$SCAN" --dry-run --log-file "$WORK/scan.log" "$R"
run env SCANMOVE_LOG_FILE="$WORK/scan.log" "$SCAN" --dry-run "$R"
expect_rc 0 "--log-file: scan"
expect_lines err 0 "--log-file: nothing on stderr"
expect_eq "$(grep -c '^scan: notice: 3 files: ' "$WORK/scan.log")" 2 "--log-file: appended, twice"
expect_eq "$(stat -c '%a' "$WORK/scan.log")" 640 "--log-file: made with mode 0640"
run "$MOVE" "${NOBROKER[@]}" --log-file "$WORK/no/such/dir/move.log" --from "$R" --to "$WORK"
expect_rc 73 "--log-file in a missing directory"
expect_eq "$(cat "$WORK/err")" "move: error: cannot open the log file $WORK/no/such/dir/move.log: No such file or directory" \
    "--log-file in a missing directory: one sentence"

# --- SIGUSR1 and SIGHUP while scan waits for another scan's lock --------------------------
"$PY3" -c 'import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)' "$R" "$WORK/locked" &
holder=$!
wait_until 10 "lock wait: the lock taken" test -e "$WORK/locked"
"$SCAN" --wait "${NOBROKER[@]}" --log-file "$WORK/wait.log" "$R" >"$WORK/out" 2>"$WORK/err" &
spid=$!
wait_until 10 "lock wait: scan says it waits" grep -qs 'waiting for' "$WORK/wait.log"
kill -USR1 "$spid"
wait_until 5 "lock wait: SIGUSR1 gives a status line" \
    grep -q '^scan: notice: 0 files so far: 0 published, 0 rejected, 0 failed in ' "$WORK/wait.log"
mv "$WORK/wait.log" "$WORK/wait.log.1"
kill -HUP "$spid"
sleep 0.6
kill -USR1 "$spid"
wait_until 5 "lock wait: after SIGHUP, a new log file" test -s "$WORK/wait.log"
wait_until 5 "lock wait: the status line in the new file" grep -qs 'files so far' "$WORK/wait.log"
checks=$((checks + 1))
kill -0 "$spid" 2>/dev/null || fail "lock wait: SIGHUP and SIGUSR1 ended scan"
expect_eq "$(grep -c 'files so far' "$WORK/wait.log.1")" 1 "lock wait: one status line per SIGUSR1"
kill "$holder"
wait "$holder" 2>/dev/null || true
wait_pid "$spid" 20 "lock wait: scan"
expect_rc 69 "lock wait: scan goes on to the (absent) broker"
expect_lines err 0 "lock wait: nothing on stderr"
expect_re "../$(basename "$WORK")/wait.log" '^scan: error: cannot connect to ' "lock wait: the end in the new file"

# --- a closed stdout: exit 74 and one sentence --------------------------------------------
B=$WORK/big
mkdir -p "$B"
"$PY3" -c 'import os, sys
for i in range(20000):
    with open(os.path.join(sys.argv[1], "f%d" % i), "w") as f:
        f.write("xx")' "$B"
# closed HOW WHAT ARGS... : scan ARGS... with its stdout read by HOW (head:
# one line, then gone; none: closed at once): exit 74 and the sentence.
closed() {
    local how=$1 what=$2
    shift 2
    set +e
    if [ "$how" = head ]; then
        timeout 60 "$SCAN" "$@" 2>"$WORK/err" | head -n 1 >"$WORK/out"
    else
        timeout 60 "$SCAN" "$@" 2>"$WORK/err" | (exec 0<&-)
    fi
    rc=${PIPESTATUS[0]}
    set -e
    expect_rc 74 "$what"
    expect_in err "scan: error: cannot write to standard output: Broken pipe" "$what: the sentence"
    expect_eq "$(grep -vc '^scan: notice: [0-9]* files: ' "$WORK/err")" 1 "$what: one sentence"
}
closed head "dry run | head -1" --dry-run "$B"
n=$(sed -n 's/^scan: notice: \([0-9]*\) files: .*/\1/p' "$WORK/err")
checks=$((checks + 1))
[ -n "$n" ] && [ "$n" -lt 20000 ] || fail "dry run | head -1: the walk went on to the end ($n files)"
closed head "--rejects - | head -1" --dry-run --rejects - --max-size 1 "$B"
n=$(sed -n 's/^scan: notice: \([0-9]*\) files: .*/\1/p' "$WORK/err")
checks=$((checks + 1))
[ -n "$n" ] && [ "$n" -lt 20000 ] || fail "--rejects - | head -1: the walk went on to the end ($n files)"
closed none "--json, stdout closed" --dry-run --json "$R"
closed none "--json -q, stdout closed" --dry-run --json -q "$R"

finish
