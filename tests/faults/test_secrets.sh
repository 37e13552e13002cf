#!/usr/bin/env bash
# Secrets: the broker password, given by --url-file or AMQP_URL, never shows
# in /proc/PID/cmdline of a running scan or move, which any user of the
# machine can read; given by --url (the contrast), it is overwritten in
# place as soon as the tool has read it, with a warning, and is no longer
# there once the tool runs. Nor does it appear in any line the tools print,
# with -v, when the login fails (exit 77) or the broker cannot be reached
# (exit 69), however the URL was given.
#
# /proc/PID/environ does hold AMQP_URL, by nature: it is the environment the
# tool was started with. Unlike cmdline (mode 0444, for everyone), environ
# is mode 0400 and the kernel lets only the same user (or root) read it, so
# AMQP_URL is as private as a --url-file readable by that user only.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/faults/faults.sh"
unset SCANMOVE_JOBS

port=${url##*:}
port=${port%%/*}
user=fault-secrets-$tag
# Distinctive, random, and with a '/' that the URL carries percent-encoded:
# grep for $core finds the password encoded or decoded.
core=Pw$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
password="$core/x"
good="amqp://$user:$core%2Fx@127.0.0.1:$port/%2F"
wrong="amqp://$user:${core}WRONG@127.0.0.1:$port/%2F"
# A port nobody listens on: one the kernel just handed out, closed again.
dead_port=$("$PY3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
unreachable="amqp://$user:$core%2Fx@127.0.0.1:$dead_port/%2F"

ctl add_user "$user" "$password" >/dev/null || fail "rabbitmqctl add_user"
extra_cleanup='ctl delete_user "$user" >/dev/null 2>&1'
ctl set_permissions -p / "$user" '.*' '.*' '.*' >/dev/null || fail "rabbitmqctl set_permissions"

q=fault-secrets-$tag
ex=fault-secrets-ex-$tag
qm=fault-secrets-move-$tag
exm=fault-secrets-move-ex-$tag
declared+=("$q" "$qm")
mkdir "$WORK/tree" "$WORK/from" "$WORK/to"
# Half the files are rejected: their --rejects lines fill a pipe nobody
# reads, where scan then waits, connected and publishing, for as long as
# the test looks at it.
"$PY3" - "$WORK/tree" <<'PYEOF'
import os, sys
for i in range(3000):
    name = "f%d.skip" % i if i % 2 else "f%d" % i
    with open(os.path.join(sys.argv[1], name), "w") as f:
        f.write("%d\n" % i)
PYEOF

# tool_start TOOL HOW URL ARGS... : start TOOL ($SCAN or $MOVE) in the
# background with the URL given HOW (file, env or flag) and ARGS; stdout to
# $tool_out, stderr to $WORK/err; $bg its pid. No `env AMQP_URL=... tool`:
# env itself would show the URL in its argv.
tool_out=$WORK/out
tool_start() {
    local tool=$1 how=$2 u=$3 out=$tool_out
    shift 3
    case "$how" in
        file)
            (umask 077 && printf '%s\n' "$u" >"$WORK/urlfile")
            (exec "$tool" --url-file "$WORK/urlfile" "$@" >"$out" 2>"$WORK/err" 7<&-) &
            ;;
        env) (export AMQP_URL="$u" && exec "$tool" "$@" >"$out" 2>"$WORK/err" 7<&-) & ;;
        flag) (exec "$tool" --url "$u" "$@" >"$out" 2>"$WORK/err" 7<&-) & ;;
    esac
    bg=$!
}

# watch_cmdline WHAT TOOL HOW : read /proc/$bg/cmdline every 0.1 s for 2 s
# and check it: the password is never there once TOOL runs (for --url:
# once TOOL has hidden it, which it must have done), and TOOL is still
# running at the end, so that what was read is what a running tool shows.
watch_cmdline() {
    local what=$1 tool=$2 how=$3 c n=0 hidden=0 leak=
    local deadline=$((SECONDS + 2))
    while [ "$SECONDS" -lt "$deadline" ]; do
        c=$(tr '\0' ' ' 2>/dev/null <"/proc/$bg/cmdline") || break
        case "$c" in
            "$tool "*)
                n=$((n + 1))
                case "$c" in *"--url amqp://$user:****"*) hidden=1 ;; esac
                case "$c" in
                    *"$core"*)
                        # Before the tool has read --url, its argv is as given.
                        [ "$how" = flag ] && [ "$hidden" -eq 0 ] || leak=$c
                        ;;
                esac
                ;;
        esac
        sleep 0.1
    done
    checks=$((checks + 1))
    [ -z "$leak" ] || fail "$what: the password is in /proc/PID/cmdline of the running tool: $leak"
    checks=$((checks + 1))
    [ "$n" -ge 5 ] || fail "$what: read the tool's cmdline only $n times in 2 s"
    checks=$((checks + 1))
    kill -0 "$bg" 2>/dev/null || fail "$what: the tool exited while its cmdline was read: $(head -c 600 "$WORK/err")"
    if [ "$how" = flag ]; then
        checks=$((checks + 1))
        [ "$hidden" -eq 1 ] || fail "$what: --url was not overwritten in the cmdline: $c"
        expect_in err "a password in --url is visible to other users" "$what: the tool warns about --url"
    fi
    # Only the owner may read environ (AMQP_URL), everybody cmdline.
    expect_eq "$(stat -c %a "/proc/$bg/environ")/$(stat -c %a "/proc/$bg/cmdline")" 400/444 \
        "$what: /proc/PID/environ is private, cmdline is not"
}

# --- while the tools run ----------------------------------------------------------
mkfifo "$WORK/pipe"
queued=0
for how in file env flag; do
    # scan: waits on the full pipe, once connected.
    exec 7<>"$WORK/pipe"
    tool_out=$WORK/pipe
    # --requeue-after 0: each of the three runs publishes the tree again.
    tool_start "$SCAN" "$how" "$good" --queue "$q" --exchange "$ex" --no-mime -j 1 \
        --requeue-after 0 --exclude '*.skip' --rejects - "$WORK/tree"
    watch_cmdline "scan, URL by $how" "$SCAN" "$how"
    if [ "$how" = env ]; then
        # The one place the password is meant to be: the owner's environ.
        checks=$((checks + 1))
        tr '\0' '\n' <"/proc/$bg/environ" | grep -qxF "AMQP_URL=$good" ||
            fail "scan, URL by env: AMQP_URL is not in /proc/PID/environ"
        # The broker sees the connection of our user, under no password.
        ctl list_connections user client_properties -q >"$WORK/conns" 2>&1 || true
        expect_eq "$(grep -c "^$user" "$WORK/conns")" 1 "scan, URL by env: scan is connected as $user"
        checks=$((checks + 1))
        ! grep -qF "$core" "$WORK/conns" || fail "the password is in the connection's client properties"
    fi
    # A reader before the last one goes: a pipe with no reader at all
    # would fail scan's blocked write (EPIPE).
    exec 8<"$WORK/pipe"
    cat <&8 >"$WORK/out" 7<&- 8<&- &
    reader=$!
    exec 7<&- 8<&-
    bg_wait 120
    wait "$reader" || true
    tool_out=$WORK/out
    expect_rc 0 "scan, URL by $how, $bg_how"
    expect_lines out 1500 "scan, URL by $how: one --rejects line per excluded file"
    queued=$((queued + 1500))
    expect_eq "$(qcount "$q")" "$queued" "scan, URL by $how: the queue holds what scan published"
    checks=$((checks + 1))
    ! grep -qF "$core" "$WORK/err" "$WORK/out" || fail "scan, URL by $how: the password in its output"

    # move: waits on an empty queue for --idle-exit.
    tool_start "$MOVE" "$how" "$good" --queue "$qm" --exchange "$exm" -v \
        --from "$WORK/from" --to "$WORK/to" --idle-exit 5s
    watch_cmdline "move, URL by $how" "$MOVE" "$how"
    bg_wait 60
    expect_rc 0 "move, URL by $how, --idle-exit, $bg_how"
    checks=$((checks + 1))
    ! grep -qF "$core" "$WORK/err" "$WORK/out" || fail "move, URL by $how: the password in its output"
done

# --- nor in any error message ------------------------------------------------------
# fails_quietly TOOL HOW URL RC WHAT ARGS... : TOOL with -v exits RC, names
# the broker, and prints the password nowhere.
fails_quietly() {
    local tool=$1 how=$2 u=$3 want=$4 what=$5
    shift 5
    tool_start "$tool" "$how" "$u" -v "$@"
    bg_wait 120
    expect_rc "$want" "$what, $bg_how"
    expect_in err "127.0.0.1:" "$what: the error names the broker"
    checks=$((checks + 1))
    ! grep -F "$core" "$WORK/err" "$WORK/out" >"$WORK/leak" ||
        fail "$what: the password in the output: $(head -c 600 "$WORK/leak")"
}
for how in file env flag; do
    fails_quietly "$SCAN" "$how" "$wrong" 77 "scan, wrong password by $how" \
        --queue "$q" --exchange "$ex" "$WORK/tree"
    expect_in err "authentication failed for user '$user'" "scan, wrong password by $how: says so"
    fails_quietly "$SCAN" "$how" "$unreachable" 69 "scan, unreachable broker by $how" \
        --queue "$q" --exchange "$ex" "$WORK/tree"
    fails_quietly "$MOVE" "$how" "$wrong" 77 "move, wrong password by $how" \
        --queue "$qm" --exchange "$exm" --from "$WORK/from" --to "$WORK/to" --idle-exit 5s
    expect_in err "authentication failed for user '$user'" "move, wrong password by $how: says so"
    fails_quietly "$MOVE" "$how" "$unreachable" 69 "move, unreachable broker by $how" \
        --queue "$qm" --exchange "$exm" --from "$WORK/from" --to "$WORK/to" --idle-exit 5s \
        --reconnect-timeout 2s
done

finish
