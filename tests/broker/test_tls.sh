#!/usr/bin/env bash
# TLS against the private broker, through a TLS terminator of
# tests/fake_server.py (tlsforward) on loopback with a self-signed
# certificate made now, for localhost or for another host name (both
# trusted with --cacert):
#   1. amqps:// to the broker's plain AMQP port: exit 69, "the port speaks
#      plain AMQP, not TLS";
#   2. scan --check through the terminator works (exit 0);
#   3. a mover (no --reconnect-timeout) connected through it loses its
#      connection when the terminator is replaced by one whose certificate
#      names another host: it exits 69 within 20 s, saying so, instead of
#      retrying forever;
#   4. scan (--reconnect-timeout 60s) loses its connection mid-run the same
#      way: it exits 69 within 20 s with the reason and the count of
#      unconfirmed messages, instead of retrying for 60 s.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/lib.sh"
unset SCANMOVE_JOBS
FAKE=$TESTS_DIR/fake_server.py
umask 022

broker_port=${url##*:}
broker_port=${broker_port%%/*}
q=tls-$tag
ex=tls-ex-$tag
declared=("$q")
relay=
# shellcheck disable=SC2016 # evaluated at exit
extra_cleanup='[ -z "$relay" ] || { kill -KILL "$relay"; wait "$relay"; } 2>/dev/null'

make_certs localhost wrong.example
tport=$(free_port)
turl="amqps://guest:guest@localhost:$tport/%2F"

# Both certificates are trusted: the one for another host fails on its name.
cat "$WORK/localhost.pem" "$WORK/wrong.example.pem" >"$WORK/ca.pem"

# start_relay CERT : (re)start the TLS terminator on $tport with CERT; it
# says on $WORK/relay.log when it relays a connection.
start_relay() {
    local i
    if [ -n "$relay" ]; then
        kill -KILL "$relay" 2>/dev/null || true
        wait "$relay" 2>/dev/null || true
    fi
    rm -f "$WORK/relay.port"
    : >"$WORK/relay.log"
    "$PY3" "$FAKE" --port "$tport" "$WORK/relay.port" tlsforward "$broker_port" \
        "$WORK/$1.pem" "$WORK/$1.key" 2>"$WORK/relay.log" 7<&- 8<&- &
    relay=$!
    for i in $(seq 100); do
        [ -s "$WORK/relay.port" ] && return 0
        sleep 0.05
    done
    echo "FATAL: the TLS relay did not start: $(cat "$WORK/relay.log")" >&2
    exit 1
}

# --- 1. amqps:// to the plain port ------------------------------------------------------
run env AMQP_URL="amqps://guest:guest@127.0.0.1:$broker_port/%2F" "$SCAN" --check \
    --cacert "$WORK/ca.pem"
expect_rc 69 "amqps:// to the plain port"
expect_in err "scan: error: cannot connect to amqps://guest@127.0.0.1:$broker_port/: the port speaks plain AMQP, not TLS (use amqp://, or the broker's TLS port)" \
    "amqps:// to the plain port: says so"
expect_lines err 1 "amqps:// to the plain port: one sentence"

# --- 2. through the TLS terminator ------------------------------------------------------
start_relay localhost
declare_topo >/dev/null || fail "scan could not declare the topology"
run env AMQP_URL="$turl" "$SCAN" --check --cacert "$WORK/ca.pem" --queue "$q" --exchange "$ex"
expect_rc 0 "scan --check over TLS"
expect_in out "amqps://guest@localhost:$tport/" "scan --check over TLS: reports the broker"

# --- 3. a mover loses the terminator to one with a wrong certificate ---------------------
mkdir -p "$WORK/from" "$WORK/to"
env AMQP_URL="$turl" "$MOVE" --cacert "$WORK/ca.pem" --queue "$q" --exchange "$ex" \
    --from "$WORK/from" --to "$WORK/to" >"$WORK/move.out" 2>"$WORK/move.err" &
mpid=$!
bg_pids+=("$mpid")
end=$(($(now_ms) + 30000))
until [ "$(consumers)" = 1 ] || [ "$(now_ms)" -gt "$end" ]; do
    sleep 0.2
done
expect_eq "$(consumers)" 1 "mover: consuming over TLS"
start_relay wrong.example
t0=$(now_ms)
while kill -0 "$mpid" 2>/dev/null && [ "$(now_ms)" -lt $((t0 + 30000)) ]; do
    sleep 0.1
done
el=$(($(now_ms) - t0))
kill -KILL "$mpid" 2>/dev/null || true
set +e
wait "$mpid"
rc=$?
set -e
cp "$WORK/move.err" "$WORK/err"
expect_rc 69 "mover, certificate for another host name after a reconnection ($el ms)"
checks=$((checks + 1))
[ "$el" -le 20000 ] || fail "mover: still running $el ms after the certificate changed"
expect_re err "^move: error: cannot connect to amqps://guest@localhost:$tport/: the TLS certificate does not match the host name$" \
    "mover: the last line says why"
echo "3. mover exit $rc $el ms after the certificate changed"

# --- 4. scan mid-run ---------------------------------------------------------------------
start_relay localhost
mkdir "$WORK/tree"
# Half the files are rejected: their --rejects lines (long names: more
# than a pipe holds) fill a pipe nobody reads yet, where scan then waits,
# connected, while the terminator is replaced.
"$PY3" - "$WORK/tree" <<'PYEOF'
import os, sys
for i in range(3000):
    name = ("f%05d" % i) + "-" + "x" * 60 + (".skip" if i % 2 else "")
    with open(os.path.join(sys.argv[1], name), "w") as f:
        f.write("%d\n" % i)
PYEOF
mkfifo "$WORK/pipe"
exec 7<>"$WORK/pipe"
env AMQP_URL="$turl" "$SCAN" --cacert "$WORK/ca.pem" --queue "$q" --exchange "$ex" \
    --no-mime -j 1 --exclude '*.skip' --rejects - --reconnect-timeout 60s "$WORK/tree" \
    >"$WORK/pipe" 2>"$WORK/scan.err" 7<&- &
spid=$!
bg_pids+=("$spid")
end=$(($(now_ms) + 30000))
until grep -q relaying "$WORK/relay.log" || [ "$(now_ms)" -gt "$end" ]; do
    sleep 0.1
done
checks=$((checks + 1))
grep -q relaying "$WORK/relay.log" || fail "scan: did not connect through the TLS relay"
sleep 1
checks=$((checks + 1))
kill -0 "$spid" 2>/dev/null || fail "scan: exited before the terminator changed: $(head -c 600 "$WORK/scan.err")"
start_relay wrong.example
exec 8<"$WORK/pipe"
cat <&8 >/dev/null 7<&- 8<&- &
reader=$!
exec 7<&- 8<&-
t0=$(now_ms)
while kill -0 "$spid" 2>/dev/null && [ "$(now_ms)" -lt $((t0 + 90000)) ]; do
    sleep 0.1
done
el=$(($(now_ms) - t0))
kill -KILL "$spid" 2>/dev/null || true
set +e
wait "$spid"
rc=$?
set -e
wait "$reader" 2>/dev/null || true
cp "$WORK/scan.err" "$WORK/err"
expect_rc 69 "scan, certificate for another host name after a reconnection ($el ms)"
checks=$((checks + 1))
[ "$el" -le 20000 ] || fail "scan: exited $el ms after the certificate changed, not at once"
expect_re err "^scan: error: stopped publishing: cannot connect to amqps://guest@localhost:$tport/: the TLS certificate does not match the host name: [0-9]+ messages? (was|were) not confirmed$" \
    "scan: the last line says why, and what was not confirmed"
echo "4. scan exit $rc $el ms after the certificate changed"

finish
