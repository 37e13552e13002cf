#!/usr/bin/env bash
# tests/tls_certs.sh - the certificates for mutual TLS tests, made with openssl.
#
# Usage: tests/tls_certs.sh DIR
#
# Makes in DIR (created if missing), with EC P-256 keys, valid for 2 days,
# no prompts, no passphrases:
#   ca.pem ca.key                 a CA ("scanmove test CA")
#   server.pem server.key         a server certificate signed by the CA, for
#                                 DNS:localhost and IP:127.0.0.1 (SAN)
#   client.pem client.key         a client certificate CN=scanmove-client
#                                 signed by the CA (the broker's EXTERNAL
#                                 login takes the user name from the CN)
#   other-ca.pem other-ca.key     a second, unrelated CA
#   wrong.pem wrong.key           a client certificate CN=scanmove-client
#                                 signed by the other CA: a broker that
#                                 trusts ca.pem must refuse it
# Keys are mode 0600 (the broker and the tools run as the caller). Prints
# nothing on success; on failure openssl's output goes to stderr and the
# exit status is 1.
set -eu

[ $# -eq 1 ] || {
    echo "usage: tls_certs.sh DIR" >&2
    exit 2
}
dir=$1
mkdir -p "$dir"
log=$dir/openssl.log
: >"$log"

ossl() {
    openssl "$@" >>"$log" 2>&1 || {
        echo "tls_certs.sh: openssl $1 failed:" >&2
        cat "$log" >&2
        exit 1
    }
}

# key NAME : an EC P-256 private key in DIR/NAME.key.
key() {
    (umask 077 && ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$dir/$1.key")
}

# ca NAME CN : a self-signed CA certificate DIR/NAME.pem.
ca() {
    key "$1"
    ossl req -x509 -new -key "$dir/$1.key" -days 2 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/$1.pem"
}

# leaf NAME CA CN EXTFILE : a certificate DIR/NAME.pem for CN, signed by CA,
# with the extensions in EXTFILE.
leaf() {
    key "$1"
    ossl req -new -key "$dir/$1.key" -subj "/CN=$3" -out "$dir/$1.csr"
    ossl x509 -req -in "$dir/$1.csr" -CA "$dir/$2.pem" -CAkey "$dir/$2.key" \
        -CAcreateserial -days 2 -extfile "$4" -out "$dir/$1.pem"
    rm -f "$dir/$1.csr"
}

cat >"$dir/server.ext" <<'EOF'
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
EOF
cat >"$dir/client.ext" <<'EOF'
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
EOF

ca ca "scanmove test CA"
ca other-ca "scanmove other CA"
leaf server ca localhost "$dir/server.ext"
leaf client ca scanmove-client "$dir/client.ext"
leaf wrong other-ca scanmove-client "$dir/client.ext"
rm -f "$dir/server.ext" "$dir/client.ext" "$dir"/*.srl "$log"
