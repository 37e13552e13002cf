#!/usr/bin/env bash
# Wrong ports and certificates, against small servers of tests/fake_server.py
# on loopback (no broker): scan --check, move --check and move itself say
# in one sentence what they found instead of an AMQP 0-9-1 broker, exit 69,
# and never blame the password (none of these servers asked for one):
#   - a server that accepts and never answers;
#   - an HTTP server (http.server);
#   - a TLS server, addressed with amqp:// (it hangs up on plain text);
#   - a server that sends bytes of no protocol (a confused proxy);
#   - an AMQP 1.0-only server (answers with its own protocol header).
# What cannot mend by itself is final: move without --reconnect-timeout
# exits 69 at once on the last four, on a TLS certificate that is not
# trusted (self-signed, not in the system bundle) and on one for another
# host name (--cacert trusts it); a --cacert that cannot be read is 78.
. "$(dirname "$0")/../lib.sh"
FAKE=$TESTS_DIR/fake_server.py
servers=()
cleanup() {
    local p
    for p in "${servers[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# serve NAME MODE ARGS... : start a fake server; its port in $WORK/NAME.port.
serve() {
    local name=$1 i
    shift
    "$PY3" "$FAKE" "$WORK/$name.port" "$@" 2>"$WORK/$name.log" &
    servers+=("$!")
    for i in $(seq 100); do
        [ -s "$WORK/$name.port" ] && return 0
        sleep 0.05
    done
    echo "FATAL: fake server $name did not start: $(cat "$WORK/$name.log")" >&2
    exit 1
}
port() { cat "$WORK/$1.port"; }

# Self-signed certificates, made now: one for localhost, one for another name.
make_certs localhost wrong.example
serve silent silent
serve http http
serve tls tls "$WORK/localhost.pem" "$WORK/localhost.key"
serve wrongtls tls "$WORK/wrong.example.pem" "$WORK/wrong.example.key"
serve garbage garbage
serve amqp10 amqp10

pw=Pw$$secret
plain() { echo "amqp://guest:$pw@127.0.0.1:$(port "$1")/%2F"; }
mkdir "$WORK/from" "$WORK/to"

# one_sentence WHAT : stderr is one line from the tool, without the password.
one_sentence() {
    expect_lines err 1 "$1: one line on stderr"
    expect_not_in err "$pw" "$1: no password"
    expect_not_in err "password?" "$1: not blamed on the password"
}

# --- scan --check and move --check: what is on the port ------------------------------
for tool in scan move; do
    bin=$SCAN
    [ "$tool" = move ] && bin=$MOVE
    for case in "silent|the server accepted the connection but never answered" \
        "http|an HTTP server answered (is this the broker's AMQP port?)" \
        "tls|a TLS server answered (use amqps:// for a TLS port)" \
        "garbage|the server answered, but not in AMQP (its first bytes: 00 ff 67 61 72 62" \
        "amqp10|the server speaks another version of AMQP (its protocol header is AMQP 0.1.0.0"; do
        name=${case%%|*}
        want=${case#*|}
        run env AMQP_URL="$(plain "$name")" timeout 30 "$bin" --check --connect-timeout 2s
        expect_rc 69 "$tool --check, $name"
        expect_in err "$tool: error: cannot connect to amqp://guest@127.0.0.1:$(port "$name")/: $want" \
            "$tool --check, $name: says what answered"
        one_sentence "$tool --check, $name"
    done
done

# --- move: final at once, no retrying --------------------------------------------------
# mover WHAT RC TEXT ARGS... : move (no --reconnect-timeout) exits RC within
# 15 s (when it retries, it never does), its last line TEXT, no retry logged.
mover() {
    local what=$1 want=$2 text=$3 t0 el
    shift 3
    t0=$(date +%s%N)
    run timeout 15 "$MOVE" --from "$WORK/from" --to "$WORK/to" --connect-timeout 2s "$@"
    el=$((($(date +%s%N) - t0) / 1000000))
    expect_rc "$want" "move, $what (after $el ms)"
    expect_in err "$text" "move, $what: says why"
    expect_not_in err "trying again" "move, $what: does not retry"
    expect_not_in err "$pw" "move, $what: no password"
}
for case in "http|an HTTP server answered" "tls|a TLS server answered (use amqps://" \
    "garbage|the server answered, but not in AMQP" "amqp10|another version of AMQP"; do
    name=${case%%|*}
    mover "$name" 69 "${case#*|}" --url-file <(plain "$name")
done
mover "untrusted certificate" 69 \
    "cannot connect to amqps://guest@localhost:$(port tls)/: the TLS certificate cannot be verified (see --cacert)" \
    --url-file <(echo "amqps://guest:$pw@localhost:$(port tls)/%2F")
mover "certificate for another host name" 69 \
    "cannot connect to amqps://guest@localhost:$(port wrongtls)/: the TLS certificate does not match the host name" \
    --url-file <(echo "amqps://guest:$pw@localhost:$(port wrongtls)/%2F") \
    --cacert "$WORK/wrong.example.pem"
# server_name_indication=disable sends no name, but still checks the URL's host.
mover "certificate for another host name, server_name_indication=disable" 69 \
    "cannot connect to amqps://guest@localhost:$(port wrongtls)/: the TLS certificate does not match the name 'localhost'" \
    --url-file <(echo "amqps://guest:$pw@localhost:$(port wrongtls)/%2F?server_name_indication=disable") \
    --cacert "$WORK/wrong.example.pem"
mover "unreadable --cacert" 78 "cannot load CA certificates from $WORK/none.pem" \
    --url-file <(echo "amqps://guest:$pw@localhost:$(port tls)/%2F") --cacert "$WORK/none.pem"

# The same certificate failures for scan --check; and a trusted certificate
# gets as far as the AMQP handshake, which this TLS server never answers.
run env AMQP_URL="amqps://guest:$pw@localhost:$(port wrongtls)/%2F" "$SCAN" --check \
    --cacert "$WORK/wrong.example.pem"
expect_rc 69 "scan --check, certificate for another host name"
expect_in err "the TLS certificate does not match the host name" "scan --check, wrong host name: says so"
one_sentence "scan --check, wrong host name"
run env AMQP_URL="amqps://guest:$pw@localhost:$(port tls)/%2F" timeout 30 "$SCAN" --check \
    --cacert "$WORK/localhost.pem" --connect-timeout 2s
expect_rc 69 "scan --check, trusted TLS server that never speaks AMQP"
expect_in err "the server accepted the TLS connection but never answered" \
    "scan --check, silent TLS server: says so"
one_sentence "scan --check, silent TLS server"

finish
