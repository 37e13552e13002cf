/* mq.c - broker connection and topology; see mq.h. The only user of rabbitmq-c. */
#include "mq.h"
#include "mq_priv.h"

#include "exitcode.h"
#include "mq_url.h"
#include "version.h"

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MQ_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

int mq_exitcode(enum mq_status s)
{
    switch (s) {
    case MQ_OK:
        return EXITCODE_OK;
    case MQ_ERR_CONFIG:
    case MQ_ERR_TOPOLOGY:
    case MQ_ERR_MISSING:
        return EXITCODE_CONFIG;
    case MQ_ERR_UNREACHABLE:
    case MQ_ERR_TLS:
    case MQ_ERR_NOT_AMQP:
    case MQ_ERR_CLOSED:
        return EXITCODE_UNAVAILABLE;
    case MQ_ERR_AUTH:
    case MQ_ERR_ACCESS:
        return EXITCODE_NOPERM;
    case MQ_ERR_BLOCKED:
        return EXITCODE_TEMPFAIL;
    case MQ_ERR_PROTOCOL:
        break;
    }
    return EXITCODE_SOFTWARE;
}

int mq_transient(enum mq_status s)
{
    return s == MQ_ERR_UNREACHABLE || s == MQ_ERR_CLOSED;
}

void mq_priv_bytes_to_str(amqp_bytes_t b, char *out, size_t outlen)
{
    size_t n = b.len < outlen - 1 ? b.len : outlen - 1;
    if (n > 0)
        memcpy(out, b.bytes, n);
    out[n] = '\0';
}

void mq_priv_lower_first(char *s)
{
    if (s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z'))
        s[0] = (char)(s[0] - 'A' + 'a');
}

enum mq_status mq_priv_lost(struct mq *m, int rc, const char *doing, char *err, size_t errlen)
{
    char text[128];
    snprintf(text, sizeof text, "%s", amqp_error_string2(rc));
    mq_priv_lower_first(text);
    m->conn_open = 0;
    m->channel_open = 0;
    snprintf(err, errlen, "lost the connection to %s while %s: %s", m->display_url, doing, text);
    return MQ_ERR_CLOSED;
}

/* The broker closed the connection (d): answer with close-ok, mark the
 * connection closed and copy the reply text. Returns the reply code. */
static int closed_connection(struct mq *m, const amqp_connection_close_t *d, char *text,
                             size_t textlen)
{
    amqp_connection_close_ok_t ok;
    mq_priv_bytes_to_str(d->reply_text, text, textlen);
    amqp_send_method(m->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    m->conn_open = 0;
    m->channel_open = 0;
    return d->reply_code;
}

/* The broker closed channel ch (d): answer with close-ok, mark the channel
 * closed and copy the reply text. Returns the reply code. */
static int closed_channel(struct mq *m, amqp_channel_t ch, const amqp_channel_close_t *d,
                          char *text, size_t textlen)
{
    amqp_channel_close_ok_t ok;
    mq_priv_bytes_to_str(d->reply_text, text, textlen);
    amqp_send_method(m->conn, ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    m->channel_open = 0;
    return d->reply_code;
}

enum mq_status mq_priv_reply_error(struct mq *m, amqp_rpc_reply_t r, const char *doing, char *err,
                                   size_t errlen)
{
    char text[512];
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return MQ_OK;
    case AMQP_RESPONSE_NONE:
        snprintf(err, errlen, "no reply from the broker at %s while %s", m->display_url, doing);
        return MQ_ERR_PROTOCOL;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: {
        int code = r.library_error;
        snprintf(text, sizeof text, "%s", amqp_error_string2(code));
        mq_priv_lower_first(text);
        if (code == AMQP_STATUS_CONNECTION_CLOSED || code == AMQP_STATUS_SOCKET_ERROR ||
            code == AMQP_STATUS_SOCKET_CLOSED || code == AMQP_STATUS_HEARTBEAT_TIMEOUT ||
            code == AMQP_STATUS_TCP_ERROR || code == AMQP_STATUS_SSL_ERROR ||
            code == AMQP_STATUS_TIMEOUT) {
            m->conn_open = 0;
            m->channel_open = 0;
            snprintf(err, errlen, "lost the connection to %s while %s: %s", m->display_url, doing,
                     text);
            return MQ_ERR_CLOSED;
        }
        snprintf(err, errlen, "error from the broker library while %s: %s", doing, text);
        return MQ_ERR_PROTOCOL;
    }
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        break;
    }
    if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        switch (closed_connection(m, r.reply.decoded, text, sizeof text)) {
        case AMQP_ACCESS_REFUSED:
            snprintf(err, errlen, "access refused by %s while %s: %s", m->display_url, doing, text);
            return MQ_ERR_ACCESS;
        case AMQP_NOT_ALLOWED:
            snprintf(err, errlen, "not allowed by %s: %s", m->display_url, text);
            return MQ_ERR_ACCESS;
        default:
            snprintf(err, errlen, "the broker closed the connection while %s: %s", doing, text);
            return MQ_ERR_CLOSED;
        }
    }
    if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        switch (closed_channel(m, MQ_CHANNEL, r.reply.decoded, text, sizeof text)) {
        case AMQP_PRECONDITION_FAILED:
        case AMQP_NOT_FOUND:
        case AMQP_RESOURCE_LOCKED:
            snprintf(err, errlen, "%s: %s", doing, text);
            return MQ_ERR_TOPOLOGY;
        case AMQP_ACCESS_REFUSED:
            snprintf(err, errlen, "access refused while %s: %s", doing, text);
            return MQ_ERR_ACCESS;
        default:
            snprintf(err, errlen, "the broker closed the channel while %s: %s", doing, text);
            return MQ_ERR_PROTOCOL;
        }
    }
    snprintf(err, errlen, "unexpected reply 0x%08x from the broker while %s", r.reply.id, doing);
    return MQ_ERR_PROTOCOL;
}

/* Read "product" and "version" from the broker's connection.start. */
static void read_server_version(struct mq *m)
{
    amqp_table_t *t = amqp_get_server_properties(m->conn);
    char product[48] = "broker", version[48] = "";
    for (int i = 0; t != NULL && i < t->num_entries; i++) {
        amqp_table_entry_t *e = &t->entries[i];
        if (e->value.kind != AMQP_FIELD_KIND_UTF8 && e->value.kind != AMQP_FIELD_KIND_BYTES)
            continue;
        if (e->key.len == 7 && memcmp(e->key.bytes, "product", 7) == 0)
            mq_priv_bytes_to_str(e->value.value.bytes, product, sizeof product);
        else if (e->key.len == 7 && memcmp(e->key.bytes, "version", 7) == 0)
            mq_priv_bytes_to_str(e->value.value.bytes, version, sizeof version);
    }
    snprintf(m->server_version, sizeof m->server_version, "%s%s%s", product, version[0] ? " " : "",
             version);
}

enum mq_status mq_priv_open_channel(struct mq *m, char *err, size_t errlen)
{
    amqp_channel_open(m->conn, MQ_CHANNEL);
    enum mq_status s =
        mq_priv_reply_error(m, amqp_get_rpc_reply(m->conn), "opening a channel", err, errlen);
    if (s == MQ_OK)
        m->channel_open = 1;
    return s;
}

/* How long a probe of the port may wait, each for the connection and for
 * the answer: --connect-timeout, but at most 3 s on top of the failure. */
static int probe_ms(const struct cfg *c)
{
    return (int)(c->connect_timeout_ms > 3000 ? 3000 : c->connect_timeout_ms);
}

static enum mq_status open_socket(struct mq *m, const struct cfg *c, const struct mq_url *u,
                                  char *err, size_t errlen)
{
    amqp_socket_t *sock;
    if (u->tls) {
        sock = amqp_ssl_socket_new(m->conn);
        if (sock == NULL) {
            snprintf(err, errlen, "cannot set up TLS for %s", m->display_url);
            return MQ_ERR_CONFIG;
        }
        if (amqp_ssl_socket_set_ssl_versions(sock, AMQP_TLSv1_2, AMQP_TLSvLATEST) !=
            AMQP_STATUS_OK) {
            snprintf(err, errlen, "this TLS library cannot require TLS 1.2 or later");
            return MQ_ERR_CONFIG;
        }
        const char *ca = c->cacert[0] ? c->cacert : MQ_SYSTEM_CA;
        if (amqp_ssl_socket_set_cacert(sock, ca) != AMQP_STATUS_OK) {
            snprintf(err, errlen, "cannot load CA certificates from %s", ca);
            return MQ_ERR_CONFIG;
        }
        amqp_ssl_socket_set_verify_peer(sock, 1);
        amqp_ssl_socket_set_verify_hostname(sock, 1);
    } else {
        sock = amqp_tcp_socket_new(m->conn);
        if (sock == NULL) {
            snprintf(err, errlen, "out of memory");
            return MQ_ERR_PROTOCOL;
        }
    }
    struct timeval tv = {.tv_sec = (time_t)(c->connect_timeout_ms / 1000),
                         .tv_usec = (suseconds_t)(c->connect_timeout_ms % 1000) * 1000};
    int rc = amqp_socket_open_noblock(sock, u->host, u->port, &tv);
    if (rc == AMQP_STATUS_OK)
        return MQ_OK;

    char why[256];
    enum mq_status s = MQ_ERR_UNREACHABLE;
    switch (rc) {
    /* A certificate that cannot be verified stays so until a person acts:
     * MQ_ERR_TLS is not retried. */
    case AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED:
        snprintf(why, sizeof why, "the TLS certificate does not match the host name");
        s = MQ_ERR_TLS;
        break;
    case AMQP_STATUS_SSL_PEER_VERIFY_FAILED:
        snprintf(why, sizeof why, "the TLS certificate cannot be verified (see --cacert)");
        s = MQ_ERR_TLS;
        break;
    case AMQP_STATUS_SSL_CONNECTION_FAILED:
    case AMQP_STATUS_SSL_ERROR: {
        /* The usual reason: amqps:// to the plain AMQP port, which answers
         * a ClientHello with its protocol header and hangs up. */
        struct mq_peer p;
        mq_priv_probe(u->host, u->port, probe_ms(c), &p);
        if (p.kind == MQ_PEER_AMQP || p.kind == MQ_PEER_AMQP_OTHER) {
            snprintf(why, sizeof why,
                     "the port speaks plain AMQP, not TLS (use amqp://, or the broker's TLS "
                     "port)");
            s = MQ_ERR_NOT_AMQP;
        } else if (p.kind == MQ_PEER_HTTP) {
            snprintf(why, sizeof why,
                     "an HTTP server answered, not TLS (is this the broker's AMQPS port?)");
            s = MQ_ERR_NOT_AMQP;
        } else {
            snprintf(why, sizeof why, "the TLS handshake failed");
        }
        break;
    }
    case AMQP_STATUS_TIMEOUT:
        snprintf(why, sizeof why, "timed out");
        break;
    case AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED:
        snprintf(why, sizeof why, "host not found");
        break;
    default:
        mq_priv_diagnose_tcp(u->host, u->port,
                             (int)(c->connect_timeout_ms > 5000 ? 5000 : c->connect_timeout_ms),
                             why, sizeof why);
        break;
    }
    snprintf(err, errlen, "cannot connect to %s: %s", m->display_url, why);
    return s;
}

/*
 * The login failed before the broker's connection.start arrived (see
 * start_arrived): whatever is on the port has not asked for credentials,
 * so this is never a wrong password. Say what is there instead: over TLS
 * from the library's status alone, in plain from a probe of our own.
 */
static enum mq_status handshake_failed(struct mq *m, const struct cfg *c, const struct mq_url *u,
                                       amqp_rpc_reply_t r, char *err, size_t errlen)
{
    char why[256];
    enum mq_status s = MQ_ERR_UNREACHABLE;
    int rc = r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION ? r.library_error : 0;
    if (rc == AMQP_STATUS_INCOMPATIBLE_AMQP_VERSION) {
        snprintf(why, sizeof why,
                 "the server speaks another version of AMQP (scanmove speaks 0-9-1)");
        s = MQ_ERR_NOT_AMQP;
    } else if (u->tls) {
        if (rc == AMQP_STATUS_TIMEOUT) {
            snprintf(why, sizeof why,
                     "the server accepted the TLS connection but never answered "
                     "(is this the broker's AMQPS port?)");
        } else if (rc == AMQP_STATUS_CONNECTION_CLOSED || rc == AMQP_STATUS_SOCKET_ERROR ||
                   rc == AMQP_STATUS_SOCKET_CLOSED || rc == AMQP_STATUS_SSL_ERROR ||
                   rc == AMQP_STATUS_TCP_ERROR) {
            snprintf(why, sizeof why,
                     "the connection was dropped during the AMQP handshake "
                     "(is this the broker's AMQPS port?)");
        } else {
            snprintf(why, sizeof why,
                     "the server answered over TLS, but not in AMQP "
                     "(is this the broker's AMQPS port?)");
            s = MQ_ERR_NOT_AMQP;
        }
    } else {
        struct mq_peer p;
        mq_priv_probe(u->host, u->port, probe_ms(c), &p);
        s = mq_priv_peer_why(&p, why, sizeof why);
    }
    snprintf(err, errlen, "cannot connect to %s: %s", m->display_url, why);
    return s;
}

/*
 * Did the broker's connection.start arrive? rabbitmq-c 0.11 copies its
 * server properties (amqp_get_server_properties) as soon as it has checked
 * the version, before it answers, and the table is empty until then;
 * RabbitMQ always sends some (product, version, capabilities).
 */
static int start_arrived(struct mq *m)
{
    const amqp_table_t *t = amqp_get_server_properties(m->conn);
    return t != NULL && t->num_entries > 0;
}

/* The client properties: who we are, and the capabilities we handle. */
static amqp_table_t client_properties(const char *conn_name, amqp_table_entry_t *caps,
                                      amqp_table_entry_t *props)
{
    static const char *const cap_names[] = {"authentication_failure_close", "basic.nack",
                                            "connection.blocked", "consumer_cancel_notify",
                                            "publisher_confirms"};
    for (int i = 0; i < 5; i++) {
        caps[i].key = amqp_cstring_bytes(cap_names[i]);
        caps[i].value.kind = AMQP_FIELD_KIND_BOOLEAN;
        caps[i].value.value.boolean = 1;
    }
    int n = 0;
    props[n].key = amqp_cstring_bytes("capabilities");
    props[n].value.kind = AMQP_FIELD_KIND_TABLE;
    props[n].value.value.table.num_entries = 5;
    props[n].value.value.table.entries = caps;
    n++;
    props[n].key = amqp_cstring_bytes("product");
    props[n].value.kind = AMQP_FIELD_KIND_UTF8;
    props[n].value.value.bytes = amqp_cstring_bytes("scanmove");
    n++;
    props[n].key = amqp_cstring_bytes("version");
    props[n].value.kind = AMQP_FIELD_KIND_UTF8;
    props[n].value.value.bytes = amqp_cstring_bytes(SCANMOVE_VERSION);
    n++;
    if (conn_name != NULL) {
        props[n].key = amqp_cstring_bytes("connection_name");
        props[n].value.kind = AMQP_FIELD_KIND_UTF8;
        props[n].value.value.bytes = amqp_cstring_bytes(conn_name);
        n++;
    }
    amqp_table_t t = {.num_entries = n, .entries = props};
    return t;
}

enum mq_status mq_connect(const struct cfg *c, const char *conn_name, struct mq **out, char *err,
                          size_t errlen)
{
    struct mq_url u;
    *out = NULL;
    if (mq_url_parse(c->urls[c->url_order[0]], &u, err, errlen) < 0)
        return MQ_ERR_CONFIG;

    struct mq *m = calloc(1, sizeof *m);
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return MQ_ERR_PROTOCOL;
    }
    mq_url_format(&u, m->display_url, sizeof m->display_url);
    m->conn = amqp_new_connection();
    if (m->conn == NULL) {
        free(m);
        snprintf(err, errlen, "out of memory");
        return MQ_ERR_PROTOCOL;
    }

    enum mq_status s = open_socket(m, c, &u, err, errlen);
    if (s != MQ_OK)
        goto fail;

    struct timeval hs = {.tv_sec = (time_t)(c->connect_timeout_ms / 1000),
                         .tv_usec = (suseconds_t)(c->connect_timeout_ms % 1000) * 1000};
    amqp_set_handshake_timeout(m->conn, &hs);

    amqp_table_entry_t caps[5], props[4];
    amqp_table_t t = client_properties(conn_name, caps, props);
    amqp_rpc_reply_t r =
        amqp_login_with_properties(m->conn, u.vhost, 0, MQ_FRAME_MAX, (int)c->heartbeat_s, &t,
                                   AMQP_SASL_METHOD_PLAIN, u.user, u.password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL && !start_arrived(m)) {
        s = handshake_failed(m, c, &u, r, err, errlen);
        goto fail;
    }
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        char doing[320];
        snprintf(doing, sizeof doing, "logging in as '%s'", u.user);
        s = mq_priv_reply_error(m, r, doing, err, errlen);
        if (s == MQ_ERR_ACCESS && r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
            r.reply.id == AMQP_CONNECTION_CLOSE_METHOD &&
            ((amqp_connection_close_t *)r.reply.decoded)->reply_code == AMQP_ACCESS_REFUSED) {
            /* 403 on connection.start-ok is the authentication failure
             * (authentication_failure_close); 403/530 after it concern the vhost. */
            snprintf(err, errlen, "authentication failed for user '%s' at %s", u.user,
                     m->display_url);
            s = MQ_ERR_AUTH;
        } else if (s == MQ_ERR_ACCESS) {
            char vh[300];
            snprintf(vh, sizeof vh, "%s", u.vhost);
            snprintf(err, errlen, "access to vhost '%s' refused for user '%s' at %s", vh, u.user,
                     m->display_url);
        } else if (s == MQ_ERR_CLOSED && r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                   r.library_error == AMQP_STATUS_TIMEOUT) {
            /* A slow broker (or its authentication backend), not a refusal. */
            snprintf(err, errlen,
                     "cannot connect to %s: the broker did not finish the login in time "
                     "(see --connect-timeout)",
                     m->display_url);
            s = MQ_ERR_UNREACHABLE;
        } else if (s == MQ_ERR_CLOSED) {
            /* Brokers that ignore authentication_failure_close just hang up. */
            snprintf(err, errlen,
                     "the broker at %s closed the connection during login "
                     "(wrong user name or password?)",
                     m->display_url);
            s = MQ_ERR_AUTH;
        }
        goto fail;
    }
    m->conn_open = 1;
    read_server_version(m);
    /* No RPC may wait forever (a broker that stopped answering but keeps
     * the socket open); the library's default is to wait forever. */
    uint64_t rpc_ms = c->connect_timeout_ms > 30000 ? c->connect_timeout_ms : 30000;
    struct timeval rpc = {.tv_sec = (time_t)(rpc_ms / 1000),
                          .tv_usec = (suseconds_t)(rpc_ms % 1000) * 1000};
    amqp_set_rpc_timeout(m->conn, &rpc);
    s = mq_priv_open_channel(m, err, errlen);
    if (s != MQ_OK)
        goto fail;
    *out = m;
    return MQ_OK;
fail:
    mq_close(m);
    return s;
}

enum mq_status mq_priv_handle_frame(struct mq *m, const amqp_frame_t *f, char *err, size_t errlen)
{
    if (f->frame_type != AMQP_FRAME_METHOD)
        return MQ_OK;
    switch (f->payload.method.id) {
    case AMQP_CONNECTION_BLOCKED_METHOD: {
        amqp_connection_blocked_t *b = f->payload.method.decoded;
        m->blocked = 1;
        mq_priv_bytes_to_str(b->reason, m->blocked_reason, sizeof m->blocked_reason);
        return MQ_OK;
    }
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
        m->blocked = 0;
        m->blocked_reason[0] = '\0';
        return MQ_OK;
    case AMQP_CONNECTION_CLOSE_METHOD: {
        char text[256];
        closed_connection(m, f->payload.method.decoded, text, sizeof text);
        snprintf(err, errlen, "the broker closed the connection: %s", text);
        return MQ_ERR_CLOSED;
    }
    case AMQP_CHANNEL_CLOSE_METHOD: {
        char text[256];
        if (closed_channel(m, f->channel, f->payload.method.decoded, text, sizeof text) ==
            AMQP_ACCESS_REFUSED) {
            /* Permissions do not change by reconnecting: not MQ_ERR_CLOSED. */
            snprintf(err, errlen, "access refused by %s: %s", m->display_url, text);
            return MQ_ERR_ACCESS;
        }
        if (strstr(text, "acknowledgement") != NULL && strstr(text, "timed out") != NULL)
            snprintf(err, errlen,
                     "the broker took back deliveries held longer than its consumer_timeout "
                     "(%s)",
                     text);
        else
            snprintf(err, errlen, "the broker closed the channel: %s", text);
        return MQ_ERR_PROTOCOL;
    }
    default:
        return MQ_OK;
    }
}

int mq_blocked(const struct mq *m, const char **reason)
{
    if (reason != NULL)
        *reason = m->blocked ? m->blocked_reason : NULL;
    return m->blocked;
}

const char *mq_display_url(const struct mq *m)
{
    return m->display_url;
}

const char *mq_server_version(const struct mq *m)
{
    return m->server_version;
}

void mq_close(struct mq *m)
{
    if (m == NULL)
        return;
    /* A blocked broker reads nothing from us: a polite close would wait
     * for a reply that does not come. Hanging up is safe for the broker. */
    if (m->conn != NULL && m->blocked) {
        m->channel_open = 0;
        m->conn_open = 0;
    }
    if (m->have_env)
        amqp_destroy_envelope(&m->env);
    if (m->conn != NULL) {
        if (m->channel_open)
            amqp_channel_close(m->conn, MQ_CHANNEL, AMQP_REPLY_SUCCESS);
        if (m->conn_open)
            amqp_connection_close(m->conn, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(m->conn);
    }
    free(m);
}
