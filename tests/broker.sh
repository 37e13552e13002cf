#!/usr/bin/env bash
# tests/broker.sh - private, loopback-only RabbitMQ broker for scanmove tests.
#
# Usage: tests/broker.sh start|stop|restart|kill|status|url|env|ctl ARGS...
#
#   start    start (or reuse) the broker; prints its AMQP URL on stdout and
#            exits 0 once it answers the AMQP protocol header on its port
#            (timeout $SCANMOVE_BROKER_START_TIMEOUT, default 60 s; on
#            failure the log tails go to stderr and nothing is left running)
#   stop     graceful stop (SIGTERM -> rabbit shuts down cleanly), then make
#            sure no process of it (nor its private epmd) is left; ok if not
#            running
#   restart  stop + start with the same data dir and the same ports
#   kill     SIGKILL the broker's Erlang VM (beam.smp); data and the private
#            epmd are kept, a later `start` brings it back on the same ports
#   status   exit 0 if the broker is running and accepting connections
#   url      print the URL of the running broker
#   env      print the environment used for the broker (`export K=V` lines)
#   ctl ...  run rabbitmqctl against the broker, e.g. `ctl list_queues name`
#
# URL: amqp://guest:guest@127.0.0.1:PORT/%2F  -- the default vhost "/" spelled
# out.  A bare trailing slash ("...:PORT/") means vhost "" to librabbitmq's
# amqp_parse_url (amqp-tools: "NOT_ALLOWED - vhost  not found"), while
# scanmove's mq_url treats both forms as "/".
#
# State lives in $SCANMOVE_BROKER_DIR (default /tmp/scanmove-broker-$(id -u)):
#   amqp_port dist_port epmd_port nodename instance   (kept forever -> same
#     ports/node/data; a recorded port that another process took meanwhile
#     is replaced by a new one, the node name and so the data stay)
#   broker.pid (beam.smp) wrapper.pid epmd.pid url     (runtime)
#   rabbitmq.conf enabled_plugins rabbitmq-env.conf conf.d/   (config)
#   home/.erlang.cookie (HOME of the VM and of rabbitmqctl)
#   mnesia/ (data)   log/ (NODE.log, startup.log, epmd.log)   lock
#
# Root vs. ordinary user: the VM ALWAYS runs as the user who invokes this
# script.  We call the upstream script /usr/lib/rabbitmq/bin/rabbitmq-server
# directly, NOT Debian's /usr/sbin/rabbitmq-server wrapper (which, as root,
# su's to the `rabbitmq` user, cd's to /var/lib/rabbitmq and writes
# /var/log/rabbitmq/startup_*).  Running as the invoking user means the state
# dir only has to be usable by that user (no chown, no traverse permission
# needed on parent dirs for another account, works for dirs under /root or
# $HOME), and every file in it stays owned by the caller.  As root the broker
# thus runs as root; it listens on 127.0.0.1 only.  The state dir must be
# owned by the invoking user (checked), so root and a normal user use
# different dirs (the default includes the uid).
#
# Isolation from any system RabbitMQ/epmd:
#   * own epmd: `epmd -address 127.0.0.1 -port EPMD_PORT`, started by us (not
#     daemonized, pid recorded); ERL_EPMD_PORT/ERL_EPMD_ADDRESS are exported
#     for the VM and for rabbitmqctl, and erl gets `-start_epmd false` so it
#     never spawns an untracked epmd.  NB: epmd always adds the loopback of
#     each address family, so it also listens on [::1]:EPMD_PORT (loopback
#     too; cannot be switched off short of disabling IPv6);
#   * Erlang distribution on 127.0.0.1:DIST_PORT (RABBITMQ_DIST_PORT and
#     `-kernel inet_dist_use_interface {127,0,0,1}`, also for rabbitmqctl);
#   * AMQP: listeners.tcp.default = 127.0.0.1:AMQP_PORT; no plugins unless
#     SCANMOVE_BROKER_PLUGINS names some (comma-separated, e.g.
#     rabbitmq_auth_mechanism_ssl); more settings (a TLS listener) can be put
#     in STATE/conf.d/*.conf before `start`: only rabbitmq.conf is rewritten;
#   * own node name scanmove-PORT@localhost, mnesia/log/config/plugins files,
#     RABBITMQ_CONF_ENV_FILE (so /etc/rabbitmq/rabbitmq-env.conf is ignored);
#   * Erlang cookie: RABBITMQ_ERLANG_COOKIE is deprecated in 3.10, so HOME
#     is set to STATE/home which holds .erlang.cookie (mode 0400, owned by
#     the caller); the VM and rabbitmqctl both read it from there;
#   * RABBITMQ_*, ERL_* and the unprefixed aliases rabbit_env also honours
#     (NODENAME, NODE_PORT, ...) are scrubbed from the caller's environment.
#
# Processes: the server is started in the background in its own session
# (setsid, stdin /dev/null, output to log/startup.log; no -detached); it
# carries the marker argument `-scanmove_broker INSTANCE` so that its
# processes can be identified reliably (pid reuse after a reboot, stale pid
# files) and nothing else is ever signalled; the private epmd is recognised
# by its command line and HOME=STATE/home in its environment.  Commands that
# change state (start/stop/restart/kill) serialise on a flock on STATE/lock.
#
# Durability: amqp-publish has no publisher confirms; a persistent message
# reaches the disk a few hundred ms after publishing, so crash tests should
# wait a moment (test_harness.sh waits 2 s) or use confirms before `kill`.
#
# Diagnostics go to stderr as "broker.sh: ...", data (URL, env) to stdout.

set -eu

PROG=broker.sh
STATE_DIR=${SCANMOVE_BROKER_DIR:-/tmp/scanmove-broker-$(id -u)}
START_TIMEOUT=${SCANMOVE_BROKER_START_TIMEOUT:-60}
STOP_TIMEOUT=60

# shellcheck source-path=SCRIPTDIR source=rabbit_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/rabbit_lib.sh"

BRK_AMQP_PORT=
BRK_DIST_PORT=
BRK_EPMD_PORT=
BRK_NODE=
BRK_INSTANCE=

usage() {
    cat >&2 <<EOF
usage: $PROG start|stop|restart|kill|status|url|env|ctl ARGS...
state dir: $STATE_DIR (set SCANMOVE_BROKER_DIR to change)
EOF
    exit 2
}

# ---------------------------------------------------------------- state --

load_state() {
    BRK_AMQP_PORT=$(read_state amqp_port)
    BRK_DIST_PORT=$(read_state dist_port)
    BRK_EPMD_PORT=$(read_state epmd_port)
    BRK_NODE=$(read_state nodename)
    BRK_INSTANCE=$(read_state instance)
}

have_state() { [ -n "$BRK_NODE" ] && [ -n "$BRK_INSTANCE" ] && [ -n "$BRK_AMQP_PORT" ]; }

url_for() { printf 'amqp://guest:guest@%s:%s/%%2F' "$LOOPBACK" "$1"; }

# ---------------------------------------------------------------- procs --

# All live processes of ours carrying our marker argument (wrapper sh, VM).
marker_pids() {
    [ -n "$BRK_INSTANCE" ] || return 0
    pgrep -u "$MY_UID" -f -- "-scanmove_broker $BRK_INSTANCE( |\$)" || true
}

beam_pids() {
    local p
    for p in $(marker_pids); do
        [ "$(comm_of "$p")" = beam.smp ] && echo "$p"
    done
    return 0
}

beam_pid() { beam_pids | head -n 1; }

# --------------------------------------------------------------- ports --

# Keep the recorded ports when they are free, pick new ones otherwise.
choose_ports() {
    local old
    if [ -z "$BRK_AMQP_PORT" ] || port_listening "$BRK_AMQP_PORT"; then
        old=$BRK_AMQP_PORT
        BRK_AMQP_PORT=$(pick_port 1 "$BRK_DIST_PORT" "$BRK_EPMD_PORT")
        [ -z "$old" ] || warn "AMQP port $old is taken by another process, using $BRK_AMQP_PORT."
        write_state amqp_port "$BRK_AMQP_PORT"
    fi
    if [ -z "$BRK_DIST_PORT" ] || port_listening "$BRK_DIST_PORT"; then
        old=$BRK_DIST_PORT
        BRK_DIST_PORT=$(pick_port 1 "$BRK_AMQP_PORT" "$BRK_EPMD_PORT")
        [ -z "$old" ] || warn "distribution port $old is taken by another process, using $BRK_DIST_PORT."
        write_state dist_port "$BRK_DIST_PORT"
    fi
    if [ -z "$(our_epmd_pid "$BRK_EPMD_PORT")" ] && [ -z "$(epmd_listener_pids "$BRK_EPMD_PORT")" ] &&
        { [ -z "$BRK_EPMD_PORT" ] || port_listening "$BRK_EPMD_PORT"; }; then
        old=$BRK_EPMD_PORT
        BRK_EPMD_PORT=$(pick_port 1 "$BRK_AMQP_PORT" "$BRK_DIST_PORT")
        [ -z "$old" ] || warn "epmd port $old is taken by another process, using $BRK_EPMD_PORT."
        write_state epmd_port "$BRK_EPMD_PORT"
    fi
    if [ -z "$BRK_NODE" ]; then
        BRK_NODE="scanmove-$BRK_AMQP_PORT@localhost"
        write_state nodename "$BRK_NODE"
    fi
    if [ -z "$BRK_INSTANCE" ]; then
        BRK_INSTANCE=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
        write_state instance "$BRK_INSTANCE"
    fi
}

# ---------------------------------------------------------- environment --

setup_env() {
    rabbit_env "$BRK_EPMD_PORT"
    export RABBITMQ_NODENAME="$BRK_NODE"
    export RABBITMQ_CONFIG_FILE="$STATE_DIR/rabbitmq.conf"
    export RABBITMQ_CONFIG_FILES="$STATE_DIR/conf.d"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$STATE_DIR/advanced.config"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$STATE_DIR/enabled_plugins"
    export RABBITMQ_MNESIA_BASE="$STATE_DIR/mnesia"
    export RABBITMQ_LOG_BASE="$STATE_DIR/log"
    export RABBITMQ_PID_FILE="$STATE_DIR/rabbitmq.pid"
    export RABBITMQ_MOTD_FILE="$STATE_DIR/motd"
    export RABBITMQ_DIST_PORT="$BRK_DIST_PORT"
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="$DIST_IFACE"
}

print_env() {
    local v
    for v in HOME LC_ALL ERL_EPMD_PORT ERL_EPMD_ADDRESS ERL_ZFLAGS \
        ERL_CRASH_DUMP RABBITMQ_CONF_ENV_FILE RABBITMQ_NODENAME \
        RABBITMQ_USE_LONGNAME RABBITMQ_CONFIG_FILE RABBITMQ_CONFIG_FILES \
        RABBITMQ_ADVANCED_CONFIG_FILE RABBITMQ_ENABLED_PLUGINS_FILE \
        RABBITMQ_MNESIA_BASE RABBITMQ_LOG_BASE RABBITMQ_PID_FILE \
        RABBITMQ_MOTD_FILE RABBITMQ_DIST_PORT \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS RABBITMQ_CTL_ERL_ARGS; do
        printf 'export %s=%q\n' "$v" "${!v}"
    done
    printf 'export SCANMOVE_BROKER_DIR=%q\n' "$STATE_DIR"
    printf 'export SCANMOVE_BROKER_URL=%q\n' "$(url_for "$BRK_AMQP_PORT")"
}

write_config() {
    : >"$STATE_DIR/rabbitmq-env.conf"
    printf '[%s].\n' "${SCANMOVE_BROKER_PLUGINS:-}" >"$STATE_DIR/enabled_plugins"
    cat >"$STATE_DIR/rabbitmq.conf" <<EOF
# generated by tests/broker.sh - rewritten on every start
listeners.tcp.default = $LOOPBACK:$BRK_AMQP_PORT
# guest may only connect over loopback (the default); we use 127.0.0.1
loopback_users.guest = true
# low, so that tests on a fairly full disk are not blocked; fault tests
# change it at run time with "broker.sh ctl set_disk_free_limit ..."
disk_free_limit.absolute = 50MB
log.file.level = info
log.console = false
EOF
    local cookie="$STATE_DIR/home/.erlang.cookie"
    if [ ! -s "$cookie" ] || [ ! -O "$cookie" ]; then
        rm -f "$cookie"
        new_cookie "$cookie"
    fi
    chmod 400 "$cookie"
}

# ----------------------------------------------------------- liveness ----

tcp_open() (exec 3<>"/dev/tcp/$LOOPBACK/$1") 2>/dev/null

is_running() {
    have_state || return 1
    [ -n "$(beam_pid)" ] || return 1
    tcp_open "$BRK_AMQP_PORT"
}

dump_log() {
    local log="$STATE_DIR/log/$BRK_NODE.log"
    if [ -s "$log" ]; then
        warn "last 30 lines of $log:"
        tail -n 30 "$log" >&2
    fi
    if [ -s "$STATE_DIR/log/startup.log" ]; then
        warn "last 30 lines of $STATE_DIR/log/startup.log:"
        tail -n 30 "$STATE_DIR/log/startup.log" >&2
    fi
}

# ------------------------------------------------------------- actions --

start_epmd() {
    local p deadline
    [ -z "$(our_epmd_pid "$BRK_EPMD_PORT")" ] || return 0
    p=$(epmd_listener_pids "$BRK_EPMD_PORT" | head -n 1)
    if [ -z "$p" ]; then
        # Not -daemon: it stays in its own session; its pid is taken from
        # ss below because setsid may fork (when it is a group leader).
        setsid epmd -address "$LOOPBACK" -port "$BRK_EPMD_PORT" \
            </dev/null >>"$STATE_DIR/log/epmd.log" 2>&1 9>&- &
        disown $! 2>/dev/null || true
        deadline=$((SECONDS + 10))
        until p=$(epmd_listener_pids "$BRK_EPMD_PORT" | head -n 1) && [ -n "$p" ]; do
            [ "$SECONDS" -lt "$deadline" ] ||
                die "private epmd did not listen on $LOOPBACK:$BRK_EPMD_PORT within 10s (see $STATE_DIR/log/epmd.log)."
            sleep 0.05
        done
    fi
    write_state epmd.pid "$p"
}

do_start() {
    local launched='' deadline p gone=0
    if have_state && [ -n "$(marker_pids)" ]; then
        : # Running (or still booting): wait for it below, do not start twice.
    else
        # Clean leftovers of a dead broker (e.g. a wrapper whose VM died).
        kill_marker_procs
        choose_ports
        setup_env
        write_config
        start_epmd
        rm -f "$STATE_DIR/url" "$STATE_DIR/broker.pid" "$STATE_DIR/rabbitmq.pid"
        printf '==== %s start %s (uid %s) amqp=%s dist=%s epmd=%s\n' \
            "$(date '+%F %T')" "$BRK_NODE" "$MY_UID" "$BRK_AMQP_PORT" "$BRK_DIST_PORT" \
            "$BRK_EPMD_PORT" >>"$STATE_DIR/log/startup.log"
        (cd "$STATE_DIR" &&
            exec setsid "$RMQ_BIN/rabbitmq-server" -scanmove_broker "$BRK_INSTANCE" \
                </dev/null >>"$STATE_DIR/log/startup.log" 2>&1 9>&-) &
        launched=$!
        disown "$launched" 2>/dev/null || true
    fi

    deadline=$((SECONDS + START_TIMEOUT))
    until amqp_ping "$BRK_AMQP_PORT"; do
        # Dead = no marker process and the launched one gone, twice in a row
        # (setsid may fork; its child briefly has no marker before exec).
        if [ -z "$(marker_pids)" ] && ! is_alive "$launched"; then
            gone=$((gone + 1))
            [ "$gone" -lt 2 ] || start_failed "the broker exited during startup."
        else
            gone=0
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            start_failed "the broker did not accept AMQP connections on $LOOPBACK:$BRK_AMQP_PORT within ${START_TIMEOUT}s."
        fi
        sleep 0.2
    done
    p=$(beam_pid)
    [ -n "$p" ] || die "something else answers AMQP on port $BRK_AMQP_PORT but our broker is not running."
    write_state broker.pid "$p"
    for p in $(marker_pids); do
        [ "$(comm_of "$p")" = beam.smp ] || write_state wrapper.pid "$p"
    done
    write_state url "$(url_for "$BRK_AMQP_PORT")"
    url_for "$BRK_AMQP_PORT"
    echo
}

# Show the logs, leave no process behind (data is kept), exit 1.
start_failed() {
    dump_log
    kill_marker_procs
    stop_epmd
    rm -f "$STATE_DIR/broker.pid" "$STATE_DIR/wrapper.pid" \
        "$STATE_DIR/epmd.pid" "$STATE_DIR/url" "$STATE_DIR/rabbitmq.pid"
    die "$1"
}

# SIGKILL every process carrying our marker plus anything left in their
# sessions (erl_child_setup, inet_gethost of the VM).
kill_marker_procs() {
    local pids sids
    pids=$(marker_pids)
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    sids=$(session_ids $pids)
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_gone 10 $pids || warn "processes $pids did not die."
    # shellcheck disable=SC2086
    kill_sessions $sids
}

# Session ids led by one of the given (our, verified) pids.
session_ids() {
    local p sid
    for p in "$@"; do
        sid=$(ps -o sid= -p "$p" 2>/dev/null | tr -d ' ') || continue
        case " $* " in *" $sid "*) echo "$sid" ;; esac
    done | sort -u
}

kill_sessions() {
    local sid p left
    for sid in "$@"; do
        left=$(ps -e -o pid=,sid=,uid= | awk -v s="$sid" -v u="$MY_UID" \
            '$2 == s && $3 == u { print $1 }')
        for p in $left; do
            kill -KILL "$p" 2>/dev/null || true
        done
    done
}

stop_epmd() {
    local pids
    pids="$(our_epmd_pid "$BRK_EPMD_PORT") $(epmd_listener_pids "$BRK_EPMD_PORT")"
    pids=$(echo "$pids" | tr ' ' '\n' | sort -u | tr '\n' ' ')
    [ -n "${pids// /}" ] || return 0
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    # shellcheck disable=SC2086
    if ! wait_gone 5 $pids; then
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        # shellcheck disable=SC2086
        wait_gone 5 $pids || warn "private epmd ($pids) did not die."
    fi
}

do_stop() {
    local pids beams sids
    have_state || return 0
    pids=$(marker_pids)
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086
        sids=$(session_ids $pids)
        beams=$(beam_pids)
        if [ -n "$beams" ]; then
            # rabbit handles SIGTERM as a graceful `rabbitmqctl stop`.
            # shellcheck disable=SC2086
            kill -TERM $beams 2>/dev/null || true
        else
            # shellcheck disable=SC2086
            kill -TERM $pids 2>/dev/null || true
        fi
        # shellcheck disable=SC2086
        if ! wait_gone "$STOP_TIMEOUT" $pids; then
            warn "broker did not stop within ${STOP_TIMEOUT}s, killing it."
            # shellcheck disable=SC2086
            kill -KILL $pids 2>/dev/null || true
            # shellcheck disable=SC2086
            wait_gone 10 $pids || warn "processes $pids did not die."
        fi
        # shellcheck disable=SC2086
        kill_sessions $sids
    fi
    stop_epmd
    rm -f "$STATE_DIR/broker.pid" "$STATE_DIR/wrapper.pid" \
        "$STATE_DIR/epmd.pid" "$STATE_DIR/url" "$STATE_DIR/rabbitmq.pid"
}

do_kill() {
    local beams
    beams=$(beam_pids)
    [ -n "$beams" ] || die "no broker VM is running (state dir $STATE_DIR)."
    # shellcheck disable=SC2086
    kill -KILL $beams
    # shellcheck disable=SC2086
    wait_gone 10 $beams || die "beam.smp ($beams) survived SIGKILL."
    # The wrapper sh exits by itself once its VM is gone.
    wait_gone 5 "$(read_state wrapper.pid)" || true
    rm -f "$STATE_DIR/url"
}

# ---------------------------------------------------------------- main --

[ $# -ge 1 ] || usage
cmd=$1
shift

case "$cmd" in
    start | stop | restart | kill)
        [ $# -eq 0 ] || usage
        if [ ! -d "$STATE_DIR" ]; then
            case "$cmd" in
                stop) exit 0 ;; # nothing was ever started here
                kill) die "no broker is running for $STATE_DIR." ;;
            esac
        fi
        ensure_dir SCANMOVE_BROKER_DIR
        mkdir -p "$STATE_DIR/home" "$STATE_DIR/mnesia" "$STATE_DIR/log" \
            "$STATE_DIR/conf.d"
        take_lock 180
        load_state
        case "$cmd" in
            start) do_start ;;
            stop) do_stop ;;
            restart)
                do_stop
                do_start
                ;;
            kill) do_kill ;;
        esac
        ;;
    status | url | env | ctl)
        [ -d "$STATE_DIR" ] || die "no broker state dir $STATE_DIR; run '$0 start' first."
        STATE_DIR=$(cd "$STATE_DIR" && pwd -P)
        load_state
        case "$cmd" in
            status)
                [ $# -eq 0 ] || usage
                is_running || {
                    warn "no broker is running for $STATE_DIR."
                    exit 1
                }
                ;;
            url)
                [ $# -eq 0 ] || usage
                is_running ||
                    die "no broker is running for $STATE_DIR; run '$0 start' first."
                url_for "$BRK_AMQP_PORT"
                echo
                ;;
            env)
                [ $# -eq 0 ] || usage
                have_state || die "no broker state in $STATE_DIR; run '$0 start' first."
                setup_env
                print_env
                ;;
            ctl)
                [ -n "$(beam_pid)" ] ||
                    die "no broker is running for $STATE_DIR; run '$0 start' first."
                setup_env
                exec "$RMQ_BIN/rabbitmqctl" -n "$BRK_NODE" "$@"
                ;;
        esac
        ;;
    -h | --help | help) usage ;;
    *) usage ;;
esac
