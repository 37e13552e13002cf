#!/usr/bin/env bash
# Mutual TLS with the EXTERNAL login (docs/deploy.md, "TLS with client
# certificates"), against a broker of its own: tests/broker.sh with the state
# dir $SCANMOVE_BROKER_DIR-mtls (fresh data each run), the plugin
# rabbitmq_auth_mechanism_ssl, and a TLS listener on 127.0.0.1 that requires
# a client certificate signed by the test's CA (tests/tls_certs.sh), the
# user name taken from its CN, scanmove-client, a user with no password.
#   1. the broker side: a TLS client with the client certificate gets the
#      AMQP connection.start; without one, or with one from another CA, it
#      is refused;
#   2. scan publishes a tree and move moves it, logging in with
#      amqps://localhost:PORT/?auth_mechanism=external: certificate files
#      given by --cacert/--cert/--key, or by the URL's query parameters
#      cacertfile/certfile/keyfile (scan --check, and a mover); the broker
#      lists the mover's connection as scanmove-client, EXTERNAL; the audit;
#   3. a client certificate from another CA, or none, is refused: one line
#      on stderr, "scan: ..."/"move: ...", saying so, no TLS library dump,
#      exit 77 (78, before connecting, for EXTERNAL without a certificate);
#   4. a server name the certificate does not hold
#      (server_name_indication=wrong.example), or a broker certificate that
#      --cacert does not vouch for, is refused: one line, exit 69.
# No password anywhere: not in argv, not in the environment.
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
umask 022
AUDIT=$TESTS_DIR/audit.sh
AMQP=$TESTS_DIR/amqp_tool.py
MDIR=${SCANMOVE_BROKER_DIR:-/tmp/scanmove-broker-$(id -u)}-mtls
CERTS=$WORK/certs
q=mtls-$$
ex=mtls-ex-$$
bg=

# mb ARGS... : tests/broker.sh on this test's own broker.
mb() {
    SCANMOVE_BROKER_DIR=$MDIR SCANMOVE_BROKER_PLUGINS=rabbitmq_auth_mechanism_ssl \
        bash "$BROKER_SH" "$@"
}

mtls_cleanup() {
    set +e
    [ -z "$bg" ] || {
        kill -KILL "$bg"
        wait "$bg"
    } 2>/dev/null
    mb stop >/dev/null
    rm -rf "$WORK"
}
trap mtls_cleanup EXIT

# --- the broker ----------------------------------------------------------------------------
bash "$TESTS_DIR/tls_certs.sh" "$CERTS" || {
    echo "FATAL: tests/tls_certs.sh failed" >&2
    exit 1
}
mb stop >/dev/null
(umask 077 && mkdir -p "$MDIR/conf.d")
rm -rf "${MDIR:?}/mnesia" "$MDIR"/conf.d/*.conf
tport=$(free_port)
cat >"$MDIR/conf.d/50-mtls.conf" <<EOF
# written by tests/cluster/test_tls_mutual.sh
listeners.ssl.default = 127.0.0.1:$tport
ssl_options.cacertfile = $CERTS/ca.pem
ssl_options.certfile = $CERTS/server.pem
ssl_options.keyfile = $CERTS/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
ssl_cert_login_from = common_name
auth_mechanisms.1 = EXTERNAL
# for the test's own checks (audit, counts) as guest on the plain port
auth_mechanisms.2 = PLAIN
EOF
url=$(mb start) || {
    echo "FATAL: the mutual TLS broker did not start" >&2
    exit 1
}
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$tport") 2>/dev/null && break
    sleep 0.1
done
mb ctl add_user scanmove-client '' >/dev/null
mb ctl set_permissions -p / scanmove-client '.*' '.*' '.*' >/dev/null

# tls_probe [CERT KEY] : "amqp" when a TLS client (with that client
# certificate) gets AMQP's connection.start from the TLS port, else the error.
tls_probe() {
    "$PY3" - "$tport" "$CERTS/ca.pem" "$@" <<'PYEOF'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
if len(sys.argv) > 3:
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"AMQP\x00\x00\x09\x01")
            b = s.recv(1)
    print("amqp" if b == b"\x01" else "closed")
except (OSError, ssl.SSLError) as e:
    print(type(e).__name__, e)
PYEOF
}

# --- 1. the broker side --------------------------------------------------------------------
expect_eq "$(tls_probe "$CERTS/client.pem" "$CERTS/client.key")" amqp \
    "broker: the client certificate is accepted"
p=$(tls_probe)
checks=$((checks + 1))
[ "$p" != amqp ] || fail "broker: a client without a certificate is accepted"
echo "1. broker, no client certificate: $p"
p=$(tls_probe "$CERTS/wrong.pem" "$CERTS/wrong.key")
checks=$((checks + 1))
[ "$p" != amqp ] || fail "broker: a certificate from another CA is accepted"
echo "1. broker, certificate from another CA: $p"

# --- 2. scan and move over mutual TLS, EXTERNAL -------------------------------------------
u="amqps://localhost:$tport/?auth_mechanism=external"
uq="$u&cacertfile=$CERTS/ca.pem&certfile=$CERTS/client.pem&keyfile=$CERTS/client.key"
flags=(--cacert "$CERTS/ca.pem" --cert "$CERTS/client.pem" --key "$CERTS/client.key")
expect_eq "${uq%%@*}" "$uq" "no user name or password in the URLs"
R=$WORK/root
D=$WORK/dest
mkdir -p "$R/a/b" "$D"
for i in $(seq 20); do
    printf 'mutual TLS file %s\n' "$i" >"$R/a/b/f$i"
done
"$AUDIT" snapshot "$R" >"$WORK/manifest"

run timeout 60 "$SCAN" --url "$u" "${flags[@]}" --queue "$q" --exchange "$ex" --no-mime "$R"
expect_rc 0 "scan, --cacert/--cert/--key"
expect_in err "20 published" "scan: 20 files published"
run timeout 60 "$SCAN" --url "$uq" --check --queue "$q" --exchange "$ex"
expect_rc 0 "scan --check, cacertfile/certfile/keyfile in the URL"
# By address: the certificate's IP entry (127.0.0.1) vouches for it, and
# the EXTERNAL login shows no user name.
run timeout 60 "$MOVE" --url "amqps://127.0.0.1:$tport/?auth_mechanism=external" "${flags[@]}" \
    --check --queue "$q" --exchange "$ex"
expect_rc 0 "move --check, amqps:// to 127.0.0.1 (an IP entry of the certificate)"
expect_re out "^amqps://127.0.0.1:$tport/ \\(RabbitMQ " "move --check by address: no user name shown"
run timeout 60 "$MOVE" --url "$uq" --queue "$q" --exchange "$ex" --from "$R" --to "$D" --count 10
expect_rc 0 "move --count 10, cacertfile/certfile/keyfile in the URL"
expect_in err "10 moved" "move, certificate files in the URL: 10 moved"

# A mover that waits: its connection, as the broker lists it.
"$MOVE" --url "$u" "${flags[@]}" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
    >"$WORK/bg.out" 2>"$WORK/bg.err" &
bg=$!
conn=
for _ in $(seq 100); do
    kill -0 "$bg" 2>/dev/null || break
    conn=$(mb ctl list_connections -q user auth_mechanism ssl 2>/dev/null | grep scanmove-client || true)
    [ -z "$conn" ] || break
    sleep 0.2
done
# (a mover has two connections: one consumes, one publishes dead letters)
expect_eq "$(printf '%s\n' "$conn" | tr -s ' \t' ' ' | sort -u)" "scanmove-client EXTERNAL true" \
    "the mover's connections: user, mechanism, TLS"
kill -TERM "$bg" 2>/dev/null || true
set +e
wait "$bg"
rc=$?
set -e
bg=
cp "$WORK/bg.err" "$WORK/err"
expect_rc 0 "move, --cacert/--cert/--key, until SIGTERM"
expect_in err "10 moved" "move, --cacert/--cert/--key: the other 10 moved"

run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" --manifest "$WORK/manifest"
expect_rc 0 "audit: every file at DEST once, byte-identical"
cnt=$("$PY3" "$AMQP" count "$url" "$q" 2>&1 | cut -d' ' -f1)
expect_eq "$cnt" 0 "the queue is empty"
cnt=$("$PY3" "$AMQP" count "$url" "$q.dead" 2>&1 | cut -d' ' -f1)
expect_eq "$cnt" 0 "the dead-letter queue is empty"

# --- 3. and 4. refused -----------------------------------------------------------------------
# expect_refusal TOOL STATUSES WHAT : the last run exited with one of
# STATUSES ("69 77"), with one line on stderr, TOOL's, and no TLS library
# dump (OpenSSL's "error:0A000418:SSL routines:..." lines). move's summary
# line ("move: notice: 0 moved, ...", which it prints at every exit) aside.
expect_refusal() {
    checks=$((checks + 1))
    case " $2 " in *" $rc "*) ;; *) fail "$3: exit status $rc, expected one of $2; stderr: $(head -c 600 "$WORK/err")" ;; esac
    if [ "$1" = move ]; then
        expect_re err "^move: notice: 0 moved, 0 skipped, 0 duplicates, 0 dead-lettered, 0 requeued in " \
            "$3: move's summary"
        grep -Ev '^move: notice: 0 moved, 0 skipped, ' "$WORK/err" >"$WORK/err.1" || true
        mv "$WORK/err.1" "$WORK/err"
    fi
    expect_lines err 1 "$3: one line"
    expect_re err "^$1: " "$3: the tool's own line"
    checks=$((checks + 1))
    ! grep -Eq 'error:[0-9A-F]{8}:|SSL routines|\.c:[0-9]+' "$WORK/err" ||
        fail "$3: TLS library noise: $(head -c 600 "$WORK/err")"
    echo "$3: exit $rc: $(head -c 300 "$WORK/err")"
}

mkdir -p "$WORK/r2" "$WORK/d2"
echo refused >"$WORK/r2/f"
wrong=(--cacert "$CERTS/ca.pem" --cert "$CERTS/wrong.pem" --key "$CERTS/wrong.key")
# Under TLS 1.3 the broker judges the client certificate after the
# handshake; its alert may race the client's first write. Try a few times:
# each must say it.
for i in 1 2 3 4 5; do
    run timeout 60 "$SCAN" --url "$u" "${wrong[@]}" --queue "$q" --exchange "$ex" --no-mime "$WORK/r2"
    expect_refusal scan 77 "3. scan, a client certificate from another CA (try $i)"
    expect_in err "refused the client certificate" "3. scan, another CA's certificate (try $i): says so"
done
for i in 1 2 3; do
    run timeout 60 "$MOVE" --url "$u" "${wrong[@]}" --queue "$q" --exchange "$ex" \
        --from "$WORK/r2" --to "$WORK/d2" --idle-exit 2s
    expect_refusal move 77 "3. move, a client certificate from another CA (try $i)"
    expect_in err "refused the client certificate" "3. move, another CA's certificate (try $i): says so"
done
# No client certificate: EXTERNAL cannot work without one (said before
# connecting); a password login over TLS is refused by the broker.
run timeout 60 "$SCAN" --url "$u" --cacert "$CERTS/ca.pem" --queue "$q" --exchange "$ex" \
    --no-mime "$WORK/r2"
expect_refusal scan 78 "3. scan, EXTERNAL without a client certificate"
expect_in err "needs a client certificate" "3. scan, EXTERNAL without a client certificate: says so"
for i in 1 2 3; do
    run timeout 60 "$SCAN" --url "amqps://localhost:$tport/" --cacert "$CERTS/ca.pem" \
        --queue "$q" --exchange "$ex" --no-mime "$WORK/r2"
    expect_refusal scan 77 "3. scan, no client certificate (try $i)"
    expect_in err "requires a client certificate" "3. scan, no client certificate (try $i): says so"
done

run timeout 60 "$SCAN" --url "$u&server_name_indication=wrong.example" "${flags[@]}" \
    --queue "$q" --exchange "$ex" --no-mime "$WORK/r2"
expect_refusal scan 69 "4. scan, server_name_indication=wrong.example"
expect_in err "does not match" "4. scan, server_name_indication=wrong.example: says so"
run timeout 60 "$MOVE" --url "$uq&server_name_indication=wrong.example" --queue "$q" \
    --exchange "$ex" --from "$WORK/r2" --to "$WORK/d2" --idle-exit 2s
expect_refusal move 69 "4. move, server_name_indication=wrong.example"
expect_in err "does not match" "4. move, server_name_indication=wrong.example: says so"
run timeout 60 "$SCAN" --url "$u" --cacert "$CERTS/other-ca.pem" --cert "$CERTS/client.pem" \
    --key "$CERTS/client.key" --queue "$q" --exchange "$ex" --no-mime "$WORK/r2"
expect_refusal scan 69 "4. scan, the broker's certificate not signed by --cacert"
expect_in err "cannot be verified" "4. scan, --cacert of another CA: says so"
expect_eq "$(find "$WORK/d2" -type f | wc -l)" 0 "refused: nothing moved"
cnt=$("$PY3" "$AMQP" count "$url" "$q" 2>&1 | cut -d' ' -f1)
expect_eq "$cnt" 0 "refused: nothing published"

finish
