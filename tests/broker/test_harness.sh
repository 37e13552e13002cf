#!/usr/bin/env bash
# tests/broker/test_harness.sh - end-to-end test of tests/broker.sh.
#
# Starts (or reuses) the private broker, checks url/start agreement, AMQP
# round trip with tests/amqp_tool.py (python3-pika), durability of a durable queue + persistent
# message across `restart` and across `kill` + `start`, `ctl add_user`, and
# that every listening socket of the broker's processes is on loopback.
# Leaves the broker RUNNING (the test suite reuses it).
#
# Env: BROKER_SH (default: ../broker.sh next to this script),
#      SCANMOVE_BROKER_DIR (passed through to broker.sh).

set -eu

here=$(cd "$(dirname "$0")" && pwd)
BROKER_SH=${BROKER_SH:-$here/../broker.sh}
T=test_harness

fail() {
    printf '%s: FAIL: %s\n' "$T" "$*" >&2
    exit 1
}
ok() { printf 'ok - %s\n' "$*"; }

command -v ss >/dev/null 2>&1 || fail "required tool ss not found (apt-get install iproute2)."
PY3=python3
[ -x /usr/bin/python3 ] && PY3=/usr/bin/python3
"$PY3" -c 'import pika' 2>/dev/null || fail "python3-pika not found (apt-get install python3-pika)."
AMQP=$here/../amqp_tool.py
[ -x "$BROKER_SH" ] || fail "broker harness $BROKER_SH not found or not executable."

broker() { "$BROKER_SH" "$@"; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2fs", b - a }'; }

# --- start / url / status ---------------------------------------------------
t0=$(now)
url=$(broker start) || fail "'broker.sh start' failed."
ok "start ($(elapsed "$t0")): $url"
case "$url" in
    amqp://guest:guest@127.0.0.1:[0-9]*) ;;
    *) fail "start printed an unexpected URL: '$url'." ;;
esac
url2=$(broker url) || fail "'broker.sh url' failed while the broker runs."
[ "$url" = "$url2" ] || fail "url ('$url2') differs from start output ('$url')."
ok "url matches start output"
broker status || fail "'broker.sh status' says not running right after start."
ok "status"
url3=$(broker start) || fail "second 'broker.sh start' (reuse) failed."
[ "$url3" = "$url" ] || fail "second start printed '$url3', expected '$url'."
ok "start reuses the running broker"

# Environment of the broker (ports, state dir) for the socket checks.
envtxt=$(broker env) || fail "'broker.sh env' failed."
envvar() { (eval "$envtxt" && printf '%s' "${!1:-}"); }
state_dir=$(envvar SCANMOVE_BROKER_DIR)
epmd_port=$(envvar ERL_EPMD_PORT)
dist_port=$(envvar RABBITMQ_DIST_PORT)
if [ -z "$state_dir" ] || [ -z "$epmd_port" ] || [ -z "$dist_port" ]; then
    fail "'broker.sh env' lacks SCANMOVE_BROKER_DIR/ERL_EPMD_PORT/RABBITMQ_DIST_PORT."
fi
amqp_port=${url##*:}
amqp_port=${amqp_port%%/*}

# --- AMQP round trip ----------------------------------------------------------
tag="$$-$RANDOM"
q="scanmove-harness-$tag"
qd="scanmove-harness-durable-$tag"
work=$(mktemp -d "${TMPDIR:-/tmp}/scanmove-harness.XXXXXX")
cleanup_queues() {
    "$PY3" "$AMQP" delete "$url" "$q" "$qd" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup_queues EXIT
# publish QUEUE BODY : a persistent message to QUEUE, confirmed.
publish() { printf '%s' "$2" >"$work/body" && "$PY3" "$AMQP" publish "$url" "" "$1" "$work/body"; }
# get QUEUE : the body of the next message of QUEUE, taken off it.
get() {
    [ "$("$PY3" "$AMQP" drain "$url" "$1" 1 "$work/got" /dev/null)" = 1 ] && cat "$work/got"
}

"$PY3" "$AMQP" declare "$url" "$q" || fail "declaring $q failed."
publish "$q" "hello-$tag" || fail "publishing to $q failed."
got=$(get "$q") || fail "get from $q found no message."
[ "$got" = "hello-$tag" ] || fail "get returned '$got', expected 'hello-$tag'."
ok "declare/publish/get round trip"

# --- ctl ------------------------------------------------------------------------
user="scanmove-harness-$tag"
broker ctl add_user "$user" "pw-$tag" >/dev/null || fail "'ctl add_user' failed."
broker ctl set_permissions -p / "$user" '.*' '.*' '.*' >/dev/null ||
    fail "'ctl set_permissions' failed."
broker ctl list_users --silent | grep -q "^${user}[[:space:]]" ||
    fail "user $user not listed by 'ctl list_users'."
uurl="amqp://$user:pw-$tag@127.0.0.1:$amqp_port/%2F"
"$PY3" "$AMQP" declare "$uurl" "$q" 2>/dev/null ||
    fail "cannot connect as the user created with 'ctl add_user'."
broker ctl delete_user "$user" >/dev/null || fail "'ctl delete_user' failed."
ok "ctl add_user/set_permissions/list_users/delete_user"

# --- durability -----------------------------------------------------------------
# Persistent message in a durable queue, confirmed, so on disk; the pause
# before the crash below is kept from the days without confirms.
queue_messages() { # -> number of messages in $qd according to rabbitmqctl
    broker ctl list_queues --silent name messages |
        awk -v q="$qd" '$1 == q { print $2 }'
}
check_survived() { # check_survived WHAT BODY
    local n got
    n=$(queue_messages)
    [ "$n" = 1 ] || fail "after $1 durable queue $qd has '${n:-no such queue}' messages, expected 1."
    got=$(get "$qd") || fail "after $1 get from $qd found no message."
    [ "$got" = "$2" ] || fail "after $1 got '$got' from $qd, expected '$2'."
}

"$PY3" "$AMQP" declare "$url" "$qd" || fail "declaring $qd failed."
publish "$qd" "restart-$tag" || fail "publishing to $qd failed."
[ "$(queue_messages)" = 1 ] || fail "persistent message did not arrive in $qd."
t0=$(now)
url_r=$(broker restart) || fail "'broker.sh restart' failed."
ok "restart ($(elapsed "$t0"))"
[ "$url_r" = "$url" ] || fail "restart changed the URL from '$url' to '$url_r'."
check_survived restart "restart-$tag"
ok "durable queue and persistent message survive restart (same URL)"

publish "$qd" "kill-$tag" || fail "publishing to $qd failed."
[ "$(queue_messages)" = 1 ] || fail "persistent message did not arrive in $qd."
sleep 2
t0=$(now)
broker kill || fail "'broker.sh kill' failed."
ok "kill ($(elapsed "$t0"))"
if broker status 2>/dev/null; then
    fail "'broker.sh status' says running after kill."
fi
if broker url >/dev/null 2>&1; then
    fail "'broker.sh url' succeeded after kill."
fi
ok "status/url report not running after kill"
t0=$(now)
url_k=$(broker start) || fail "'broker.sh start' after kill failed."
ok "start after kill ($(elapsed "$t0"))"
[ "$url_k" = "$url" ] || fail "start after kill changed the URL from '$url' to '$url_k'."
check_survived "kill + start" "kill-$tag"
ok "durable queue and persistent message survive kill + start (same URL)"

# --- loopback only -----------------------------------------------------------------
# Broker processes: the VM, its descendants, the rabbitmq-server wrapper
# and the private epmd.
beam=$(cat "$state_dir/broker.pid")
wrapper=$(cat "$state_dir/wrapper.pid" 2>/dev/null || true)
epmd=$(cat "$state_dir/epmd.pid" 2>/dev/null || true)
kill -0 "$beam" 2>/dev/null || fail "broker.pid ($beam) is not alive."
descendants() {
    local c
    for c in $(ps -o pid= --ppid "$1"); do
        echo "$c"
        descendants "$c"
    done
}
pids=" $beam $wrapper $epmd $(descendants "$beam" | tr '\n' ' ') "

# ss lines: State Recv-Q Send-Q Local:Port Peer:Port users:(("name",pid=N,fd=M),...)
sockets=$( {
    ss -Hltnp
    ss -Hlunp
} 2>/dev/null | while read -r _ _ _ local _ procs; do
    for p in $(printf '%s\n' "$procs" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
        case "$pids" in *" $p "*) printf '%s %s %s\n' "$p" "$(cat "/proc/$p/comm")" "$local" ;; esac
    done
done)
[ -n "$sockets" ] || fail "no listening socket found for broker pids$pids (ss -p not permitted?)."
printf '%s\n' "$sockets" | sed 's/^/#   /'
bad=$(printf '%s\n' "$sockets" | awk '
    $3 ~ /^127\.0\.0\.1:/ { next }
    $2 == "epmd" && $3 ~ /^\[::1\]:/ { next }   # epmd always adds ::1 too
    { print }')
[ -z "$bad" ] || fail "broker listens on non-loopback address(es): $bad"
for want in "beam.smp 127.0.0.1:$amqp_port" "beam.smp 127.0.0.1:$dist_port" \
    "epmd 127.0.0.1:$epmd_port"; do
    printf '%s\n' "$sockets" | grep -q " $want\$" ||
        fail "expected listener '$want' not found."
done
n_beam=$(printf '%s\n' "$sockets" | awk '$2 == "beam.smp"' | wc -l)
[ "$n_beam" = 2 ] || fail "beam.smp listens on $n_beam sockets, expected 2 (AMQP + distribution)."
if ss -Hltn '( sport = :4369 )' | grep -q .; then
    # Only informative: some other epmd may legitimately exist.
    ok "note: something else listens on 4369; not ours (checked above)"
fi
ok "all broker listeners are on loopback (AMQP $amqp_port, dist $dist_port, epmd $epmd_port)"

cleanup_queues
trap - EXIT
broker status || fail "broker not running at the end of the test."
ok "broker left running at $url"
