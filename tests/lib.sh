# tests/lib.sh - shared helpers for the shell tests (sourced, not run).
# Each test: `. "$(dirname "$0")/../lib.sh"`; it gets a private workspace
# $WORK removed on exit, and the binaries in $SCAN and $MOVE (set by ctest,
# or defaulting to ./build).
set -eu

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(dirname "$TESTS_DIR")}
SCAN=${SCAN:-$SOURCE_DIR/build/scanner/scan}
MOVE=${MOVE:-$SOURCE_DIR/build/mover/move}
BROKER_SH=${BROKER_SH:-$TESTS_DIR/broker.sh}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scanmove-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# Broker settings from the caller's environment must not leak into tests:
# AMQP_URL and every SCANMOVE_* variable but the harness's own (so a new
# setting in common/cfg.h needs no line here) and SCANMOVE_JOBS.
for _v in $(compgen -e); do
    case $_v in
    SCANMOVE_BROKER_* | SCANMOVE_COMMON_DIR | SCANMOVE_SOAK | SCANMOVE_VERSION | SCANMOVE_FUZZ* | \
        SCANMOVE_TEST* | SCANMOVE_JOBS) ;;
    AMQP_URL | SCANMOVE_*) unset "$_v" ;;
    esac
done
unset _v

failures=0
checks=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# run CMD... : run a command, keeping its exit status in $rc, stdout in
# $WORK/out and stderr in $WORK/err.
run() {
    set +e
    "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    set -e
}

# expect_rc N WHAT : the last run exited with N.
expect_rc() {
    checks=$((checks + 1))
    if [ "$rc" -ne "$1" ]; then
        fail "$2: exit status $rc, expected $1; stderr: $(head -c 600 "$WORK/err")"
    fi
}

# expect_in FILE TEXT WHAT : FILE (out or err) contains TEXT.
expect_in() {
    checks=$((checks + 1))
    if ! grep -qF -- "$2" "$WORK/$1"; then
        fail "$3: std$1 lacks '$2'; it has: $(head -c 600 "$WORK/$1")"
    fi
}

# expect_not_in FILE TEXT WHAT : FILE (out or err) does not contain TEXT.
expect_not_in() {
    checks=$((checks + 1))
    if grep -qF -- "$2" "$WORK/$1"; then
        fail "$3: std$1 has '$2': $(head -c 600 "$WORK/$1")"
    fi
}

# expect_lines FILE N WHAT : FILE (out or err) has exactly N lines.
expect_lines() {
    checks=$((checks + 1))
    local n
    n=$(wc -l <"$WORK/$1")
    if [ "$n" -ne "$2" ]; then
        fail "$3: std$1 has $n lines, expected $2: $(head -c 600 "$WORK/$1")"
    fi
}

# The system python3 when there is one: a version manager's shim costs 0.1 s
# a call, and the Python checkers run a few hundred times.
PY3=python3
[ -x /usr/bin/python3 ] && PY3=/usr/bin/python3

# pycheck WHAT CMD ARGS... : one check, passed when "$PY3" "$PY" CMD ARGS... is happy.
pycheck() {
    local what=$1 msg
    shift
    checks=$((checks + 1))
    if ! msg=$("$PY3" "$PY" "$@" 2>&1); then
        fail "$what: $(printf '%s' "$msg" | head -c 1500)"
    fi
}

# expect_eq GOT WANT WHAT
expect_eq() {
    checks=$((checks + 1))
    [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

# expect_re FILE ERE WHAT : a line of stdout/stderr matches ERE.
expect_re() {
    checks=$((checks + 1))
    grep -Eq -- "$2" "$WORK/$1" || fail "$3: no line of std$1 matches /$2/: $(head -c 800 "$WORK/$1")"
}

# jlines FILE CHECKS... : every line of FILE is one JSON log object with its
# members, and each CHECK finds its line (tests/log_check.py).
jlines() {
    local f=$1 msg
    shift
    checks=$((checks + 1))
    msg=$("$PY3" "$TESTS_DIR/log_check.py" "$f" "$@" 2>&1) ||
        fail "JSON log lines of $f: $(printf '%s' "$msg" | tail -c 1500)"
}

# An environment assignment for a tool run under strace: LeakSanitizer
# cannot work under ptrace, and a build with -DSANITIZE=address would fail
# at exit for that alone.
NO_LSAN="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# now_ms : milliseconds since the epoch.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_until SECS WHAT CMD... : poll CMD every 0.05 s until it succeeds;
# after SECS a failure (WHAT: not within SECS s), and 1.
wait_until() {
    local secs=$1 what=$2 end=$(($(now_ms) + $1 * 1000))
    shift 2
    until "$@"; do
        if [ "$(now_ms)" -ge "$end" ]; then
            fail "$what: not within $secs s"
            return 1
        fi
        sleep 0.05
    done
}

# wait_pid PID SECS WHAT : wait up to SECS for background job PID to exit;
# its exit status in $rc. One still running then is a failure, and killed.
wait_pid() {
    local end=$(($(now_ms) + $2 * 1000))
    while kill -0 "$1" 2>/dev/null && [ "$(now_ms)" -lt "$end" ]; do
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        fail "$3: still running $2 s later"
        kill -KILL "$1" 2>/dev/null || true
    fi
    set +e
    wait "$1"
    rc=$?
    set -e
}

# free_port : a loopback port nobody listens on (one the kernel just handed
# out, closed again).
free_port() { "$PY3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# make_certs NAME... : a self-signed certificate for each host NAME, made
# now: $WORK/NAME.pem and $WORK/NAME.key. Exits the test when openssl fails.
make_certs() {
    local c
    for c in "$@"; do
        openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$c" \
            -addext "subjectAltName=DNS:$c" -keyout "$WORK/$c.key" -out "$WORK/$c.pem" \
            >/dev/null 2>&1 || {
            echo "FATAL: openssl req failed" >&2
            exit 1
        }
    done
}

# nopriv_prefix : as root, set PFX to a command prefix (setpriv) that runs a
# tool without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so that file modes
# stop it as they stop any other user; 1 (PFX empty) when setpriv cannot
# drop them. For any other user PFX is empty.
nopriv_prefix() {
    local nopriv
    PFX=()
    [ "$(id -u)" -eq 0 ] || return 0
    : >"$WORK/probe"
    chmod 000 "$WORK/probe"
    # shellcheck disable=SC2054 # the commas belong to the capability list
    nopriv=(setpriv --inh-caps=-all --bounding-set=-dac_override,-dac_read_search --)
    if "${nopriv[@]}" true 2>/dev/null && ! "${nopriv[@]}" cat "$WORK/probe" 2>/dev/null; then
        # shellcheck disable=SC2034 # for the caller
        PFX=("${nopriv[@]}")
        return 0
    fi
    return 1
}

# nopriv_or_skip WHAT : nopriv_prefix, or skip the test (WHAT: the checks
# that cannot run then).
nopriv_or_skip() {
    nopriv_prefix || skip "running as root and setpriv cannot drop CAP_DAC_OVERRIDE: $1"
}

# AS_NOBODY : a command prefix that runs a tool as user nobody;
# can_be_nobody : 0 when it works here.
AS_NOBODY=(setpriv --reuid nobody --regid nogroup --clear-groups)
can_be_nobody() { command -v setpriv >/dev/null && "${AS_NOBODY[@]}" true 2>/dev/null; }

# skip WHY : the rest of the test cannot run here: say why, and exit 77
# (skipped) when the checks made so far passed, 1 when one failed.
skip() {
    echo "SKIP: $*" >&2
    finish || exit 1
    exit 77
}

# finish : report and exit non-zero on any failure.
finish() {
    echo "$(basename "$0"): $((checks - failures)) passed, $failures failed"
    [ "$failures" -eq 0 ]
}
