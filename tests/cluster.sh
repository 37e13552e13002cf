#!/usr/bin/env bash
# tests/cluster.sh - a private N-node RabbitMQ cluster on loopback, for the
# cluster tests (tests/cluster/) and bench/cluster.sh.
#
# Usage: tests/cluster.sh start N|urls|url I|kill I|restart I|leader QUEUE|
#                         ctl I ARGS...|status|stop
#
#   start N      start (or reuse) a cluster of N nodes c1..cN (1 <= N <= 9),
#                joined, every node running; prints the AMQP URL of each
#                node, one per line, c1 first. A running cluster of N nodes
#                is reused (a killed node of it is started again); one of
#                another size is an error (stop it first). N=1 is a single
#                node started the same way (bench/cluster.sh compares them).
#                Timeout $SCANMOVE_CLUSTER_START_TIMEOUT s per step (default
#                180); on failure the log tails go to stderr and nothing is
#                left running.
#   urls         the URLs of every node, one per line (also of a killed one)
#   url I        the URL of node I
#   kill I       SIGKILL node I's Erlang VM (beam.smp), after checking that
#                it is ours; its data stays, `restart I` brings it back
#   restart I    start node I again (after `kill I`) and wait until it
#                accepts AMQP connections and is running in the cluster
#   leader QUEUE the index I of the node leading quorum queue QUEUE (from
#                rabbitmqctl list_queues name leader, asked of a live node)
#   ctl I ...    run rabbitmqctl against node I, e.g. `ctl 1 list_queues`
#   status       one line per node, then the running members as node 1 (or
#                the first live node) sees them; exit 0 when every node runs
#                and all are joined
#   stop         SIGKILL every process of ours (the data goes with the
#                state, so there is nothing to shut down cleanly), stop our
#                epmd, check that nothing of ours is left (no process, no
#                listener), remove the state dir
#
# URL: amqp://guest:guest@127.0.0.1:PORT/%2F (as tests/broker.sh prints).
#
# State lives in $SCANMOVE_CLUSTER_DIR (default /tmp/scanmove-cluster-$(id -u)),
# owned by the caller (checked): nodes instance epmd_port ctl_port epmd.pid
# lock, home/.erlang.cookie (HOME of every VM and rabbitmqctl call), log/
# (epmd.log), and per node nI/: amqp_port dist_port rabbitmq.conf
# enabled_plugins rabbitmq-env.conf mnesia/ log/ (cI@localhost.log,
# startup.log) rabbitmq.pid beam.pid.
#
# How, and why (cf. tests/broker.sh, whose isolation this follows):
#   * the VMs run as the invoking user, root or not, started with the
#     upstream /usr/lib/rabbitmq/bin/rabbitmq-server script (Debian's sbin
#     wrapper would su to the rabbitmq user, whose HOME holds the system
#     cookie), in their own session, with the marker argument
#     `-scanmove_cluster INSTANCE-I` by which their processes are found;
#   * one private epmd for the cluster (`epmd -address 127.0.0.1 -port P`),
#     ERL_EPMD_PORT/ERL_EPMD_ADDRESS for the VMs and rabbitmqctl, and
#     `-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}`; node
#     names cI@localhost are thus private to the cluster, and the system
#     epmd (4369) is never contacted;
#   * one cookie, STATE/home/.erlang.cookie, shared by the nodes and the CLI;
#   * ports, picked free between 20000 and the ephemeral range: one AMQP and
#     one distribution port per node, the epmd port, and ten ports for
#     rabbitmqctl's own distribution (RABBITMQ_CTL_DIST_PORT_MIN/MAX; the
#     default range 35672-35682 is shared by every other rabbitmqctl call);
#   * joining: c1 starts first; c2..cN then start in parallel with classic
#     config peer discovery naming c1, so that a fresh node joins c1 as it
#     boots (no stop_app/join_cluster/start_app round, each rabbitmqctl call
#     costing an Erlang VM start); a node that did not join is joined with
#     rabbitmqctl; the cluster is then checked to have N running nodes;
#   * a node killed and restarted comes back from its data dir and rejoins
#     by itself;
#   * quorum queues: RabbitMQ 3.10 places a member on every cluster node
#     (x-quorum-initial-group-size unset), and the leader on the node the
#     declaration went through (client-local).
#
# Diagnostics go to stderr as "cluster.sh: ...", data (URLs, indexes) to stdout.

set -eu

PROG=cluster.sh
STATE_DIR=${SCANMOVE_CLUSTER_DIR:-/tmp/scanmove-cluster-$(id -u)}
START_TIMEOUT=${SCANMOVE_CLUSTER_START_TIMEOUT:-180}
MAX_NODES=9

# shellcheck source-path=SCRIPTDIR source=rabbit_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/rabbit_lib.sh"

CL_N=
CL_INSTANCE=
CL_EPMD_PORT=
CL_CTL_PORT=

usage() {
    cat >&2 <<EOF
usage: $PROG start N|urls|url I|kill I|restart I|leader QUEUE|ctl I ARGS...|status|stop
state dir: $STATE_DIR (set SCANMOVE_CLUSTER_DIR to change)
EOF
    exit 2
}

# ---------------------------------------------------------------- state --

load_state() {
    CL_N=$(read_state nodes)
    CL_INSTANCE=$(read_state instance)
    CL_EPMD_PORT=$(read_state epmd_port)
    CL_CTL_PORT=$(read_state ctl_port)
}

have_state() { [ -n "$CL_N" ] && [ -n "$CL_INSTANCE" ] && [ -n "$CL_EPMD_PORT" ]; }

node_name() { printf 'c%s@localhost' "$1"; }
amqp_port() { read_state "n$1/amqp_port"; }
url_for() { printf 'amqp://guest:guest@%s:%s/%%2F\n' "$LOOPBACK" "$(amqp_port "$1")"; }

# check_index I: I is the index of a node of the cluster.
check_index() {
    case "$1" in '' | *[!0-9]* | 0*) die "'$1' is not a node index (1..${CL_N:-N})." ;; esac
    [ "$1" -le "$CL_N" ] || die "there is no node $1: the cluster has $CL_N nodes."
}

# ---------------------------------------------------------------- procs --

# marker_pids [I]: live processes carrying node I's marker (every node's
# without I): the wrapper sh and the VM.
marker_pids() {
    local re="[0-9]+"
    [ -n "$CL_INSTANCE" ] || return 0
    [ -z "${1:-}" ] || re=$1
    pgrep -u "$MY_UID" -f -- "-scanmove_cluster $CL_INSTANCE-$re( |\$)" || true
}

# beam_pid I: node I's VM, if it is alive and ours.
beam_pid() {
    local p
    for p in $(marker_pids "$1"); do
        if [ "$(comm_of "$p")" = beam.smp ] && has_our_home "$p"; then
            echo "$p"
            return 0
        fi
    done
    return 0
}

node_up() { [ -n "$(beam_pid "$1")" ]; }

# Every process of our uid whose HOME is ours (VMs, wrappers, epmd,
# erl_child_setup, a rabbitmqctl VM still running).
home_pids() {
    local f p
    # shellcheck disable=SC2013 # paths of /proc, no blanks
    for f in $(grep -lzxF "HOME=$STATE_DIR/home" /proc/[0-9]*/environ 2>/dev/null); do
        p=${f#/proc/}
        p=${p%/environ}
        [ -O "/proc/$p" ] && is_alive "$p" && echo "$p"
    done
    return 0
}

# kill_all PID...: SIGKILL them (ours, checked by the caller) and wait.
kill_all() {
    [ $# -gt 0 ] || return 0
    kill -KILL "$@" 2>/dev/null || true
    wait_gone 10 "$@" || warn "processes $* did not die."
}

# ---------------------------------------------------------- environment --

# The environment shared by the VMs and rabbitmqctl; in a subshell only.
setup_env() {
    rabbit_env "$CL_EPMD_PORT"
    export RABBITMQ_CTL_DIST_PORT_MIN="$CL_CTL_PORT"
    export RABBITMQ_CTL_DIST_PORT_MAX="$((CL_CTL_PORT + 9))"
}

# node_env I: setup_env plus node I's own settings (for its VM).
node_env() {
    local d="$STATE_DIR/n$1"
    setup_env
    export ERL_CRASH_DUMP="$d/log/erl_crash.dump"
    RABBITMQ_NODENAME=$(node_name "$1")
    export RABBITMQ_NODENAME
    export RABBITMQ_CONF_ENV_FILE="$d/rabbitmq-env.conf"
    export RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf"
    export RABBITMQ_CONFIG_FILES="$d/conf.d"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins"
    export RABBITMQ_MNESIA_BASE="$d/mnesia"
    export RABBITMQ_LOG_BASE="$d/log"
    export RABBITMQ_PID_FILE="$d/rabbitmq.pid"
    export RABBITMQ_MOTD_FILE="$d/motd"
    RABBITMQ_DIST_PORT=$(read_state "n$1/dist_port")
    export RABBITMQ_DIST_PORT
    # Several nodes share this machine's cores: no scheduler spins waiting
    # for work it could leave to the others (RabbitMQ's advice for
    # co-located or virtualised nodes; the single node gets the same).
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="$DIST_IFACE +sbwt none +sbwtdcpu none +sbwtdio none"
}

# rmqctl I ARGS...: rabbitmqctl against node I (a subshell: the caller's
# environment is untouched).
rmqctl() (
    local i=$1
    shift
    setup_env
    exec "$RMQ_BIN/rabbitmqctl" -n "$(node_name "$i")" "$@"
)

write_cookie() {
    local cookie="$STATE_DIR/home/.erlang.cookie"
    mkdir -p "$STATE_DIR/home"
    new_cookie "$cookie"
}

# write_node_config I: node I's files; nodes but c1 discover c1 and join it
# on their first boot.
write_node_config() {
    local d="$STATE_DIR/n$1"
    mkdir -p "$d/mnesia" "$d/log" "$d/conf.d"
    : >"$d/rabbitmq-env.conf"
    printf '[].\n' >"$d/enabled_plugins"
    cat >"$d/rabbitmq.conf" <<EOF
# generated by tests/cluster.sh
listeners.tcp.default = $LOOPBACK:$(amqp_port "$1")
loopback_users.guest = true
disk_free_limit.absolute = 50MB
log.file.level = info
log.console = false
# one name for the cluster (the tools log it; by default each node would
# give its own node name)
cluster_name = scanmove-$CL_INSTANCE
EOF
    if [ "$1" -gt 1 ]; then
        cat >>"$d/rabbitmq.conf" <<EOF
cluster_formation.peer_discovery_backend = classic_config
cluster_formation.classic_config.nodes.1 = $(node_name 1)
EOF
    fi
}

# ----------------------------------------------------------- liveness ----

dump_log() { # dump_log I: the tails of node I's logs
    local f
    for f in "$STATE_DIR/n$1/log/$(node_name "$1").log" "$STATE_DIR/n$1/log/startup.log"; do
        if [ -s "$f" ]; then
            warn "last 30 lines of $f:"
            tail -n 30 "$f" >&2
        fi
    done
}

# first_live: the index of the first node whose VM runs (empty if none).
first_live() {
    local i
    for i in $(seq 1 "$CL_N"); do
        node_up "$i" && {
            echo "$i"
            return 0
        }
    done
    return 0
}

# running_members I: the sorted names of the running cluster members as node
# I sees them, space-separated (empty when it does not answer).
running_members() {
    rmqctl "$1" -q eval 'lists:sort(rabbit_nodes:all_running()).' 2>/dev/null |
        tr -d '[]\n ' | tr ',' ' ' || true
}

expected_members() {
    local i out=
    for i in "$@"; do
        out="$out${out:+ }$(node_name "$i")"
    done
    printf '%s' "$out"
}

# ------------------------------------------------------------- actions --

start_epmd() {
    local p deadline
    [ -z "$(our_epmd_pid "$CL_EPMD_PORT")" ] || return 0
    (setup_env && exec setsid epmd -address "$LOOPBACK" -port "$CL_EPMD_PORT" \
        </dev/null >>"$STATE_DIR/log/epmd.log" 2>&1 9>&-) &
    disown $! 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while :; do
        p=$(epmd_listener_pids "$CL_EPMD_PORT" | head -n 1)
        if [ -n "$p" ]; then
            write_state epmd.pid "$p"
            return 0
        fi
        [ "$SECONDS" -lt "$deadline" ] ||
            fail_start "our epmd did not listen on $LOOPBACK:$CL_EPMD_PORT within 10s (see $STATE_DIR/log/epmd.log)."
        sleep 0.05
    done
}

# launch I: start node I's VM in the background (its own session).
launch() {
    local d="$STATE_DIR/n$1"
    rm -f "$d/beam.pid" "$d/rabbitmq.pid"
    printf '==== %s start %s (uid %s) amqp=%s dist=%s epmd=%s\n' "$(date '+%F %T')" \
        "$(node_name "$1")" "$MY_UID" "$(amqp_port "$1")" "$(read_state "n$1/dist_port")" \
        "$CL_EPMD_PORT" >>"$d/log/startup.log"
    (node_env "$1" && cd "$d" &&
        exec setsid "$RMQ_BIN/rabbitmq-server" -scanmove_cluster "$CL_INSTANCE-$1" \
            </dev/null >>"$d/log/startup.log" 2>&1 9>&-) &
    disown $! 2>/dev/null || true
}

# await I...: wait until each node I answers AMQP; fail_start if one dies or
# the timeout passes.
await() {
    local deadline=$((SECONDS + START_TIMEOUT)) i pending p
    local -A gone=()
    pending=" $* "
    while [ -n "${pending// /}" ]; do
        for i in $pending; do
            if amqp_ping "$(amqp_port "$i")"; then
                p=$(beam_pid "$i")
                [ -n "$p" ] || fail_start "something else answers AMQP on port $(amqp_port "$i") but node $i is not running." "$i"
                write_state "n$i/beam.pid" "$p"
                pending=${pending/ $i / }
                continue
            fi
            # Dead = no marker process twice in a row (setsid may fork:
            # its child has no marker until it execs).
            if [ -z "$(marker_pids "$i")" ]; then
                gone[$i]=$((${gone[$i]:-0} + 1))
                [ "${gone[$i]}" -lt 3 ] || fail_start "node $i exited during startup." "$i"
            else
                gone[$i]=0
            fi
        done
        [ -n "${pending// /}" ] || break
        # shellcheck disable=SC2086
        [ "$SECONDS" -lt "$deadline" ] ||
            fail_start "node(s)$pending did not accept AMQP connections within ${START_TIMEOUT}s." $pending
        sleep 0.2
    done
}

# members_are SECS I...: wait up to SECS until the first live node sees
# exactly nodes I... running; 1 if it does not (MEMBERS: what it saw last).
members_are() {
    local want deadline=$((SECONDS + $1)) ask
    shift
    want=$(expected_members "$@")
    MEMBERS=
    while :; do
        ask=$(first_live)
        [ -z "$ask" ] || MEMBERS=$(running_members "$ask")
        [ "$MEMBERS" != "$want" ] || return 0
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 1
    done
}

# await_members I...: members_are within the start timeout, or fail_start.
await_members() {
    members_are "$START_TIMEOUT" "$@" ||
        fail_start "the cluster runs '${MEMBERS:-?}', not '$(expected_members "$@")', after ${START_TIMEOUT}s." "$@"
}

# Show the logs of the given nodes, leave nothing running, exit 1.
fail_start() {
    local msg=$1 i
    shift
    for i in "$@"; do
        dump_log "$i"
    done
    do_stop keep
    die "$msg"
}

do_start() {
    local n=$1 i live='' dead='' t0=$SECONDS
    if have_state && [ -n "$(marker_pids)" ]; then
        [ "$CL_N" = "$n" ] ||
            die "a cluster of $CL_N nodes runs in $STATE_DIR; stop it first ('$0 stop')."
        for i in $(seq 1 "$n"); do
            if [ -n "$(marker_pids "$i")" ]; then live="$live $i"; else dead="$dead $i"; fi
        done
        for i in $dead; do
            launch "$i"
        done
        # shellcheck disable=SC2086
        await $live $dead
    else
        # Nothing of ours runs: whatever is left is stale, start afresh.
        do_stop quiet
        mkdir -p "$STATE_DIR/log"
        CL_N=$n
        CL_INSTANCE=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
        CL_EPMD_PORT=$(pick_port 1)
        CL_CTL_PORT=$(pick_port 10)
        for i in $(seq 1 "$n"); do
            mkdir -p "$STATE_DIR/n$i"
            write_state "n$i/amqp_port" "$(pick_port 1)"
            write_state "n$i/dist_port" "$(pick_port 1)"
        done
        write_state epmd_port "$CL_EPMD_PORT"
        write_state ctl_port "$CL_CTL_PORT"
        write_state instance "$CL_INSTANCE"
        write_state nodes "$n"
        write_cookie
        : >"$STATE_DIR/rabbitmq-env.conf"
        for i in $(seq 1 "$n"); do
            write_node_config "$i"
        done
        start_epmd
        launch 1
        await 1
        [ "$n" -eq 1 ] || warn "c1 up after $((SECONDS - t0)) s; starting c2..c$n"
        for i in $(seq 2 "$n"); do
            launch "$i"
        done
        # shellcheck disable=SC2046
        [ "$n" -eq 1 ] || await $(seq 2 "$n")
    fi
    # A fresh node that found no c1 at boot runs alone: join it by hand.
    # shellcheck disable=SC2046
    if [ -z "$live" ] && ! members_are 30 $(seq 1 "$n"); then
        for i in $(seq 2 "$n"); do
            case " $MEMBERS " in
                *" $(node_name "$i") "*) ;;
                *)
                    warn "$(node_name "$i") did not join at boot; joining it with rabbitmqctl"
                    { rmqctl "$i" stop_app && rmqctl "$i" join_cluster "$(node_name 1)" &&
                        rmqctl "$i" start_app; } >/dev/null ||
                        fail_start "cannot join $(node_name "$i") to $(node_name 1)." "$i"
                    ;;
            esac
        done
    fi
    # shellcheck disable=SC2046
    await_members $(seq 1 "$n")
    warn "$n node(s) running and joined after $((SECONDS - t0)) s"
    for i in $(seq 1 "$n"); do
        url_for "$i"
    done
}

do_kill() {
    local i=$1 p
    p=$(beam_pid "$i")
    [ -n "$p" ] || die "node $i is not running (state dir $STATE_DIR)."
    kill -KILL "$p"
    wait_gone 10 "$p" || die "beam.smp ($p) of node $i survived SIGKILL."
    # The wrapper sh and erl_child_setup exit by themselves once the VM is gone.
    # shellcheck disable=SC2046
    wait_gone 10 $(marker_pids "$i") || true
    rm -f "$STATE_DIR/n$i/beam.pid"
}

do_restart() {
    local i=$1 t0=$SECONDS live=''
    if [ -z "$(marker_pids "$i")" ]; then
        launch "$i"
    fi
    await "$i"
    for i in $(seq 1 "$CL_N"); do
        ! node_up "$i" || live="$live $i"
    done
    # shellcheck disable=SC2086
    await_members $live
    warn "node $1 running and back in the cluster after $((SECONDS - t0)) s"
}

# do_stop [quiet|keep]: kill everything of ours, check, remove the state
# (keep: the node logs stay, for a failed start).
do_stop() {
    local pids left i p
    pids=$(
        marker_pids
        our_epmd_pid "$CL_EPMD_PORT"
        home_pids
    )
    # shellcheck disable=SC2046
    kill_all $(echo "$pids" | sort -u)
    left=$(home_pids)
    [ -z "$left" ] || die "processes of ours are still alive: $left"
    # Our ports are closed (a socket may outlive its process a moment; a
    # port someone else took since is only worth a word).
    for p in $CL_EPMD_PORT $(for i in $(seq 1 "${CL_N:-0}"); do
        amqp_port "$i"
        echo
        read_state "n$i/dist_port"
        echo
    done); do
        for _ in $(seq 50); do
            port_listening "$p" || break
            sleep 0.1
        done
        ! port_listening "$p" ||
            warn "port $p is still listened on: $(ss -Hltnp "( sport = :$p )" 2>/dev/null)"
    done
    if [ "${1:-}" = keep ]; then
        find "$STATE_DIR" -mindepth 1 -maxdepth 1 ! -name 'n[0-9]*' ! -name lock \
            -exec rm -rf {} +
        find "$STATE_DIR" -mindepth 2 -maxdepth 2 -path '*/n[0-9]*/*' ! -name log -exec rm -rf {} +
        return 0
    fi
    find "$STATE_DIR" -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf {} +
    CL_N=
    CL_INSTANCE=
    [ "${1:-}" = quiet ] || rm -rf "$STATE_DIR"
}

do_status() {
    local i p ok=0 live=()
    for i in $(seq 1 "$CL_N"); do
        p=$(beam_pid "$i")
        if [ -n "$p" ] && amqp_ping "$(amqp_port "$i")"; then
            printf '%s %s running (pid %s)\n' "$(node_name "$i")" "$(url_for "$i")" "$p"
            live+=("$i")
        else
            printf '%s %s down\n' "$(node_name "$i")" "$(url_for "$i")"
            ok=1
        fi
    done
    if [ ${#live[@]} -gt 0 ]; then
        p=$(running_members "${live[0]}")
        printf 'running members as %s sees them: %s\n' "$(node_name "${live[0]}")" "${p:-?}"
        [ "$p" = "$(expected_members $(seq 1 "$CL_N"))" ] || ok=1
    fi
    return $ok
}

do_leader() {
    local i l
    i=$(first_live)
    [ -n "$i" ] || die "no node of the cluster is running."
    l=$(rmqctl "$i" -q list_queues --no-table-headers name leader 2>/dev/null |
        awk -F '\t' -v q="$1" '$1 == q { print $2 }') ||
        die "rabbitmqctl list_queues failed on $(node_name "$i")."
    case "$l" in
        c[0-9]*@localhost) echo "${l%@localhost}" | tr -d c ;;
        '') die "no queue '$1' with a leader (as $(node_name "$i") sees it)." ;;
        *) die "queue '$1' is led by '$l', not a node of this cluster." ;;
    esac
}

# ---------------------------------------------------------------- main --

[ $# -ge 1 ] || usage
cmd=$1
shift

case "$cmd" in
    start | stop | kill | restart)
        if [ ! -d "$STATE_DIR" ]; then
            case "$cmd" in
                stop) exit 0 ;;
                kill | restart) die "no cluster state in $STATE_DIR; run '$0 start N' first." ;;
            esac
        fi
        ensure_dir SCANMOVE_CLUSTER_DIR
        take_lock 300
        load_state
        case "$cmd" in
            start)
                [ $# -eq 1 ] || usage
                case "$1" in '' | *[!0-9]* | 0*) die "start: N must be a number from 1 to $MAX_NODES." ;; esac
                [ "$1" -le "$MAX_NODES" ] || die "start: N must be a number from 1 to $MAX_NODES."
                do_start "$1"
                ;;
            stop)
                [ $# -eq 0 ] || usage
                do_stop
                ;;
            kill | restart)
                [ $# -eq 1 ] || usage
                have_state || die "no cluster state in $STATE_DIR; run '$0 start N' first."
                check_index "$1"
                "do_$cmd" "$1"
                ;;
        esac
        ;;
    urls | url | leader | ctl | status)
        [ -d "$STATE_DIR" ] || die "no cluster state in $STATE_DIR; run '$0 start N' first."
        STATE_DIR=$(cd "$STATE_DIR" && pwd -P)
        load_state
        have_state || die "no cluster state in $STATE_DIR; run '$0 start N' first."
        case "$cmd" in
            urls)
                [ $# -eq 0 ] || usage
                for i in $(seq 1 "$CL_N"); do
                    url_for "$i"
                done
                ;;
            url)
                [ $# -eq 1 ] || usage
                check_index "$1"
                url_for "$1"
                ;;
            leader)
                [ $# -eq 1 ] || usage
                do_leader "$1"
                ;;
            ctl)
                [ $# -ge 1 ] || usage
                check_index "$1"
                node_up "$1" || die "node $1 is not running."
                rmqctl "$@"
                ;;
            status)
                [ $# -eq 0 ] || usage
                do_status
                ;;
        esac
        ;;
    -h | --help | help) usage ;;
    *) usage ;;
esac
