/*
 * mq_tls.c - the TLS socket of a broker connection: protocol versions, the
 * CA to trust, the client certificate for mutual TLS, and which name the
 * broker's certificate must carry; see mq_priv.h.
 *
 * rabbitmq-c 0.11 sends the connected host as the TLS server name and
 * checks the certificate against it. For server_name_indication=NAME (and
 * =disable) it is reached through its OpenSSL context: OpenSSL checks NAME
 * during the handshake, and an info callback sets the name sent, at the
 * start of each handshake, after the library has set its own.
 */
#include "mq_priv.h"

#include <amqp_ssl_socket.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MQ_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

/* TLS alert codes (RFC 8446 6.2) by which a server refuses a client's
 * certificate, or the lack of one. */
static int about_our_certificate(int code)
{
    return code == 40 /* handshake_failure */ || (code >= 42 && code <= 46) ||
           code == 48 /* unknown_ca */ || code == 49 /* access_denied */ ||
           code == 116 /* certificate_required */;
}

/* SSL_CB_HANDSHAKE_START: send m's server name, or none, before the
 * ClientHello; SSL_CB_READ_ALERT: note a fatal alert from the broker. */
static void on_info(const SSL *ssl, int where, int ret)
{
    struct mq *m = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (m == NULL)
        return;
    if ((where & SSL_CB_HANDSHAKE_START) && (m->tls_sni_off || m->tls_name[0] != '\0'))
        SSL_set_tlsext_host_name((SSL *)ssl, m->tls_sni_off ? NULL : m->tls_name);
    if ((where & SSL_CB_READ_ALERT) && (ret >> 8) == SSL3_AL_FATAL && m->tls_alert[0] == '\0') {
        m->tls_alert_code = ret & 0xff;
        /* OpenSSL 3.0 has no name for TLS 1.3's certificate_required. */
        snprintf(m->tls_alert, sizeof m->tls_alert, "%s",
                 m->tls_alert_code == 116 ? "certificate required"
                                          : SSL_alert_desc_string_long(ret));
    }
}

/* Note a CertificateRequest from the broker: when it then hangs up without
 * a word (TLS 1.3 sends its alert after the handshake, and it may be lost
 * with the connection), it refused our certificate, or the lack of one. */
static void on_message(int write_p, int version, int content_type, const void *buf, size_t len,
                       SSL *ssl, void *arg)
{
    (void)version;
    (void)arg;
    struct mq *m = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (m != NULL && !write_p && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
        ((const unsigned char *)buf)[0] == SSL3_MT_CERTIFICATE_REQUEST)
        m->tls_cert_requested = 1;
}

enum mq_status mq_priv_tls_alert_why(const struct mq *m, const struct cfg *c,
                                     const struct mq_url *u, char *why, size_t whylen)
{
    int have_cert = u->certfile[0] != '\0' || c->cert[0] != '\0';
    if (m->tls_alert[0] == '\0') { /* no alert, but a certificate was asked for */
        if (have_cert)
            snprintf(why, whylen,
                     "the broker refused the client certificate (it asked for one, "
                     "then closed the connection)");
        else
            snprintf(why, whylen,
                     "the broker requires a client certificate (give --cert and "
                     "--key)");
        return MQ_ERR_AUTH;
    }
    if (!about_our_certificate(m->tls_alert_code) ||
        (m->tls_alert_code == 40 && (have_cert || !m->tls_cert_requested))) {
        snprintf(why, whylen, "the broker ended the TLS handshake: %s", m->tls_alert);
        return MQ_ERR_TLS;
    }
    if (!have_cert)
        snprintf(why, whylen,
                 "the broker requires a client certificate (give --cert and --key; TLS alert: "
                 "%s)",
                 m->tls_alert);
    else
        snprintf(why, whylen, "the broker refused the client certificate (TLS alert: %s)",
                 m->tls_alert);
    return MQ_ERR_AUTH;
}

/* Note a certificate that does not carry the name, to say so later; the
 * library decides on the verification result. */
static int on_verify(int ok, X509_STORE_CTX *x)
{
    int e = X509_STORE_CTX_get_error(x);
    if (!ok && (e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH)) {
        SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
        struct mq *m = ssl != NULL ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
        if (m != NULL)
            m->tls_name_mismatch = 1;
    }
    return ok;
}

/* An encrypted key would make OpenSSL prompt on the terminal: refuse it. */
static int no_password(char *buf, int size, int rwflag, void *arg)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)arg;
    return -1;
}

/* Can path be opened for reading? 0, or -1 with "DOING PATH: why". */
static int readable(const char *doing, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s %s: %s", doing, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

/* The client certificate and key: u's, else c's; none is fine. */
static enum mq_status client_cert(amqp_socket_t *sock, const struct cfg *c, const struct mq_url *u,
                                  char *err, size_t errlen)
{
    /* A URL's certificate goes with the URL's key (or is both), never with --key. */
    const char *cert = u->certfile[0] ? u->certfile : c->cert;
    const char *key = u->certfile[0] || u->keyfile[0] ? u->keyfile : c->key;
    if (cert[0] == '\0' && key[0] == '\0')
        return MQ_OK;
    if (cert[0] == '\0') {
        snprintf(err, errlen, "a client key (%s) needs its certificate: give --cert", key);
        return MQ_ERR_CONFIG;
    }
    if (key[0] == '\0')
        key = cert; /* one PEM file holding both */
    if (readable("cannot read the client certificate", cert, err, errlen) < 0 ||
        readable("cannot read the client key", key, err, errlen) < 0)
        return MQ_ERR_CONFIG;
    SSL_CTX *ctx = amqp_ssl_socket_get_context(sock);
    SSL_CTX_set_default_passwd_cb(ctx, no_password);
    if (amqp_ssl_socket_set_key(sock, cert, key) != AMQP_STATUS_OK) {
        snprintf(err, errlen,
                 "cannot use the client certificate %s with the key %s: not PEM, a key that "
                 "does not match, or an encrypted key (not supported)",
                 cert, key);
        return MQ_ERR_CONFIG;
    }
    return MQ_OK;
}

/* Which name the broker's certificate must carry, and which is sent. */
static enum mq_status server_name(struct mq *m, amqp_socket_t *sock, const struct mq_url *u,
                                  int verify, char *err, size_t errlen)
{
    SSL_CTX *ctx = amqp_ssl_socket_get_context(sock);
    SSL_CTX_set_app_data(ctx, m);
    SSL_CTX_set_info_callback(ctx, on_info);
    SSL_CTX_set_msg_callback(ctx, on_message);
    unsigned char addr[16];
    int ip = inet_pton(AF_INET, u->host, addr) == 1 || inet_pton(AF_INET6, u->host, addr) == 1;
    if (!ip && !u->sni_disabled && u->server_name[0] == '\0') {
        amqp_ssl_socket_set_verify_hostname(sock, verify); /* the library's: the URL's host */
        return MQ_OK;
    }
    /* Checked by OpenSSL instead: the library matches the URL's host
     * against DNS names only. The name checked is server_name_indication's,
     * else the URL's host (an address against the certificate's IP
     * entries); disable only stops sending a name, never the check. */
    const char *name = u->server_name[0] ? u->server_name : u->host;
    amqp_ssl_socket_set_verify_hostname(sock, 0);
    m->tls_sni_off = u->sni_disabled || (ip && u->server_name[0] == '\0');
    snprintf(m->tls_name, sizeof m->tls_name, "%s", name);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, on_verify);
    if (!verify)
        return MQ_OK;
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
    int set = ip && u->server_name[0] == '\0' ? X509_VERIFY_PARAM_set1_ip_asc(param, name)
                                              : X509_VERIFY_PARAM_set1_host(param, name, 0);
    if (set != 1) {
        snprintf(err, errlen, "cannot check the broker's TLS certificate for the name '%s'", name);
        return MQ_ERR_CONFIG;
    }
    return MQ_OK;
}

enum mq_status mq_priv_tls_socket(struct mq *m, const struct cfg *c, const struct mq_url *u,
                                  amqp_socket_t **out, char *err, size_t errlen)
{
    amqp_socket_t *sock = amqp_ssl_socket_new(m->conn);
    *out = NULL;
    if (sock == NULL) {
        snprintf(err, errlen, "cannot set up TLS for %s", m->display_url);
        return MQ_ERR_CONFIG;
    }
    if (amqp_ssl_socket_set_ssl_versions(sock, AMQP_TLSv1_2, AMQP_TLSvLATEST) != AMQP_STATUS_OK) {
        snprintf(err, errlen, "this TLS library cannot require TLS 1.2 or later");
        return MQ_ERR_CONFIG;
    }
    const char *ca = u->cacertfile[0] ? u->cacertfile : c->cacert[0] ? c->cacert : MQ_SYSTEM_CA;
    if (readable("cannot load CA certificates from", ca, err, errlen) < 0)
        return MQ_ERR_CONFIG;
    if (amqp_ssl_socket_set_cacert(sock, ca) != AMQP_STATUS_OK) {
        snprintf(err, errlen, "cannot load CA certificates from %s", ca);
        return MQ_ERR_CONFIG;
    }
    enum mq_status s = client_cert(sock, c, u, err, errlen);
    if (s != MQ_OK)
        return s;
    int verify = u->verify != 0; /* verify_none turns off both checks */
    amqp_ssl_socket_set_verify_peer(sock, verify);
    if ((s = server_name(m, sock, u, verify, err, errlen)) != MQ_OK)
        return s;
    *out = sock;
    return MQ_OK;
}
