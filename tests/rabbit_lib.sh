# tests/rabbit_lib.sh - what tests/broker.sh and tests/cluster.sh share to run
# private RabbitMQ VMs on loopback (sourced, not run): the state files, the
# process checks, free ports, the scrubbed environment, the cookie and the
# AMQP ping. The sourcing script sets PROG (its name in diagnostics) and
# STATE_DIR first.
# shellcheck shell=bash

# shellcheck disable=SC2034 # used by the sourcing scripts
RMQ_BIN=/usr/lib/rabbitmq/bin
LOOPBACK=127.0.0.1
MY_UID=$(id -u)

warn() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    warn "$*"
    exit 1
}

# ---------------------------------------------------------------- state --

read_state() { # read_state NAME -> value of STATE_DIR/NAME or empty
    local f="$STATE_DIR/$1" v=
    if [ -f "$f" ]; then
        IFS= read -r v <"$f" || true
    fi
    printf '%s' "$v"
}

write_state() { # write_state NAME VALUE (atomically)
    printf '%s\n' "$2" >"$STATE_DIR/$1.tmp"
    mv -f "$STATE_DIR/$1.tmp" "$STATE_DIR/$1"
}

# ensure_dir VAR: create (or validate) the state dir, which must belong to the
# caller (VAR: the variable that names it, for the message), and make
# STATE_DIR its canonical absolute path (rabbit and erl want absolute paths).
ensure_dir() {
    if [ ! -d "$STATE_DIR" ]; then
        (umask 077 && mkdir -p "$STATE_DIR") ||
            die "cannot create state dir $STATE_DIR."
    fi
    [ -O "$STATE_DIR" ] ||
        die "state dir $STATE_DIR is not owned by uid $MY_UID; set $1 to a dir of your own."
    if [ ! -w "$STATE_DIR" ] || [ ! -x "$STATE_DIR" ]; then
        die "state dir $STATE_DIR is not writable."
    fi
    STATE_DIR=$(cd "$STATE_DIR" && pwd -P)
}

# take_lock SECS: serialise on a flock on STATE_DIR/lock (fd 9), or exit.
take_lock() {
    exec 9>"$STATE_DIR/lock"
    flock -w "$1" 9 || die "could not lock $STATE_DIR/lock within $1s (another $PROG still running?)."
}

# ---------------------------------------------------------------- procs --

cmdline_of() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true; }
comm_of() { cat "/proc/$1/comm" 2>/dev/null || true; }

# Alive and not a zombie (our detached processes are reaped by PID 1, which
# may take a while; a zombie holds no sockets or files any more).
is_alive() {
    local s
    [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    [ "${s%% *}" != Z ]
}

# Was PID started from this state dir? (all our processes get
# HOME=STATE/home; /proc/PID/environ is readable for our own processes only)
has_our_home() {
    [ -O "/proc/$1" ] &&
        tr '\0' '\n' 2>/dev/null <"/proc/$1/environ" |
        grep -qxF "HOME=$STATE_DIR/home"
}

# our_epmd_pid PORT: the recorded epmd.pid if it is alive, ours, and our
# epmd on PORT (checked by command line).
our_epmd_pid() {
    local p
    [ -n "$1" ] || return 0
    p=$(read_state epmd.pid)
    if is_alive "$p" && has_our_home "$p"; then
        case "$(cmdline_of "$p")" in
            *epmd\ -address\ $LOOPBACK\ -port\ "$1"\ ) echo "$p" ;;
        esac
    fi
    return 0
}

# epmd_listener_pids PORT: pids of epmd processes of this state dir
# listening on PORT (covers an epmd that some erl spawned despite
# -start_epmd false); an epmd of anybody else is never included.
epmd_listener_pids() {
    local p
    [ -n "$1" ] || return 0
    for p in $(ss -Hltnp "( sport = :$1 )" 2>/dev/null |
        grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
        if [ "$(comm_of "$p")" = epmd ] && has_our_home "$p"; then
            echo "$p"
        fi
    done
    return 0
}

wait_gone() { # wait_gone SECONDS PID...: 0 when none is alive in time
    local deadline=$((SECONDS + $1)) p alive
    shift
    while :; do
        alive=
        for p in "$@"; do
            is_alive "$p" && alive=1
        done
        [ -z "$alive" ] && return 0
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# --------------------------------------------------------------- ports --

port_listening() { [ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]; }
port_used() { [ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]; }

# pick_port SPAN EXCLUDED...: a port P between 20000 and the ephemeral range,
# P..P+SPAN-1 all unused and none of them EXCLUDED.
pick_port() {
    local span=$1 lo=20000 hi lowest p k ok what="$1 free TCP port(s)"
    shift
    [ "$span" -ne 1 ] || what="a free TCP port"
    read -r lowest _ </proc/sys/net/ipv4/ip_local_port_range || lowest=32768
    hi=$((lowest - span))
    [ "$hi" -gt "$lo" ] || {
        lo=10000
        hi=$((20000 - span))
    }
    for _ in $(seq 1 300); do
        p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
        ok=1
        for k in $(seq "$p" $((p + span - 1))); do
            case " $* " in *" $k "*) ok= ;; esac
            [ -z "$ok" ] || ! port_used "$k" || ok=
            [ -n "$ok" ] || break
        done
        if [ -n "$ok" ]; then
            echo "$p"
            return 0
        fi
    done
    die "could not find $what between $lo and $((hi + span - 1))."
}

# ---------------------------------------------------------- environment --

# Names rabbit_env / rabbitmq-env read, with or without RABBITMQ_ prefix.
RABBIT_ENV_NAMES="ADVANCED_CONFIG_FILE ALLOW_INPUT BASE BOOT_MODULE CONFIG_FILE
CONFIG_FILES CONF_ENV_FILE CTL_DIST_PORT_MAX CTL_DIST_PORT_MIN CTL_ERL_ARGS DBG
DEFAULT_PASS DEFAULT_USER DEFAULT_VHOST DIST_PORT DISTRIBUTION_BUFFER_SIZE
ENABLED_PLUGINS ENABLED_PLUGINS_FILE ERLANG_COOKIE FEATURE_FLAGS
FEATURE_FLAGS_FILE IGNORE_SIGINT KEEP_PID_FILE_ON_EXIT LOG LOGS LOG_BASE
LOG_FF_REGISTRY MAX_NUMBER_OF_ATOMS MAX_NUMBER_OF_PROCESSES MNESIA_BASE
MNESIA_DIR MOTD_FILE NODE_IP_ADDRESS NODE_ONLY NODE_PORT NODENAME PID_FILE
PLUGINS_DIR PLUGINS_EXPAND_DIR PRODUCT_NAME PRODUCT_VERSION QUORUM_DIR
SCHEDULER_BIND_TYPE SCHEDULER_BUSY_WAIT_THRESHOLD SERVER_ADDITIONAL_ERL_ARGS
SERVER_CODE_PATH SERVER_ERL_ARGS SERVER_START_ARGS STREAM_DIR SYS_PREFIX
UPGRADE_LOG USE_LONGNAME USE_RABBIT_BOOT_SCRIPT detached NOTIFY_SOCKET"

# rabbit_env EPMD_PORT: scrub RABBITMQ_*, ERL_* and the unprefixed names
# above from the environment, then export what every erl of this state dir
# shares (the VMs, rabbit's one-off epmd-starter VM, rabbitmqctl): HOME with
# the cookie, our epmd on loopback, never spawning an epmd, distribution on
# loopback. Sets DIST_IFACE for the caller's own settings.
rabbit_env() {
    local v
    for v in $(compgen -e); do
        case "$v" in RABBITMQ_* | ERL_*) unset "$v" ;; esac
    done
    for v in $RABBIT_ENV_NAMES; do
        unset "$v"
    done
    DIST_IFACE='-kernel inet_dist_use_interface {127,0,0,1}'
    export HOME="$STATE_DIR/home"
    export LC_ALL=C.UTF-8
    export ERL_EPMD_PORT="$1"
    export ERL_EPMD_ADDRESS="$LOOPBACK"
    export ERL_ZFLAGS="-start_epmd false $DIST_IFACE"
    export ERL_CRASH_DUMP="$STATE_DIR/log/erl_crash.dump"
    export RABBITMQ_CONF_ENV_FILE="$STATE_DIR/rabbitmq-env.conf"
    export RABBITMQ_USE_LONGNAME=false
    export RABBITMQ_CTL_ERL_ARGS="$DIST_IFACE"
}

# new_cookie FILE: a fresh random Erlang cookie in FILE, mode 0400.
new_cookie() {
    (umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' |
        tr '0-9a-f' 'ABCDEFGHIJKLMNOP' >"$1")
    chmod 400 "$1"
}

# ----------------------------------------------------------- liveness ----

# Does 127.0.0.1:PORT speak AMQP? Send the 0-9-1 protocol header and expect
# the first frame (connection.start, frame type 1) back.
amqp_ping() (
    exec 3<>"/dev/tcp/$LOOPBACK/$1" || exit 1
    printf 'AMQP\x00\x00\x09\x01' >&3 || exit 1
    LC_ALL=C IFS= read -r -t 5 -N 1 -u 3 b || exit 1
    [ "$b" = $'\001' ]
) 2>/dev/null
