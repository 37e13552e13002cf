/*
 * mq_connect.c - reaching a broker: one attempt (socket, TLS, login, channel)
 * and the round over the list of brokers; see mq.h.
 */
#include "mq.h"
#include "mq_priv.h"

#include "mq_url.h"
#include "version.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * Where the next round starts: a position in cfg's url_order. Process-wide,
 * so that every connection of a tool starts where the last one succeeded,
 * and after a lost connection at the next node (mq_priv_node_closed).
 * mq_connect is called from one thread at a time.
 */
static size_t next_pos;

/* One attempt's settings: the URL, and its query parameters over c's. */
struct attempt {
    struct mq_url u;
    uint64_t timeout_ms;
    uint32_t heartbeat_s;
};

/* How long a probe of the port may wait, each for the connection and for
 * the answer: the connect timeout, but at most 3 s on top of the failure. */
static int probe_ms(const struct attempt *a)
{
    return (int)(a->timeout_ms > 3000 ? 3000 : a->timeout_ms);
}

/* The TLS handshake failed: why, from the alert the broker sent, or from a
 * probe of the port. */
static enum mq_status tls_failed(struct mq *m, const struct cfg *c, const struct attempt *a,
                                 char *why, size_t whylen)
{
    if (m->tls_alert[0] != '\0' || m->tls_cert_requested)
        return mq_priv_tls_alert_why(m, c, &a->u, why, whylen);
    /* The usual reason: amqps:// to the plain AMQP port, which answers a
     * ClientHello with its protocol header and hangs up. */
    struct mq_peer p;
    mq_priv_probe(a->u.host, a->u.port, probe_ms(a), &p);
    if (p.kind == MQ_PEER_AMQP || p.kind == MQ_PEER_AMQP_OTHER) {
        snprintf(why, whylen,
                 "the port speaks plain AMQP, not TLS (use amqp://, or the broker's TLS port)");
        return MQ_ERR_NOT_AMQP;
    }
    if (p.kind == MQ_PEER_HTTP) {
        snprintf(why, whylen,
                 "an HTTP server answered, not TLS (is this the broker's AMQPS port?)");
        return MQ_ERR_NOT_AMQP;
    }
    snprintf(why, whylen, "the TLS handshake failed");
    return MQ_ERR_UNREACHABLE;
}

static enum mq_status open_socket(struct mq *m, const struct cfg *c, const struct attempt *a,
                                  char *err, size_t errlen)
{
    amqp_socket_t *sock;
    if (a->u.tls) {
        enum mq_status s = mq_priv_tls_socket(m, c, &a->u, &sock, err, errlen);
        if (s != MQ_OK)
            return s;
    } else if ((sock = amqp_tcp_socket_new(m->conn)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return MQ_ERR_PROTOCOL;
    }
    struct timeval tv = mq_priv_timeval(a->timeout_ms);
    int rc = amqp_socket_open_noblock(sock, a->u.host, a->u.port, &tv);
    if (rc == AMQP_STATUS_OK)
        return MQ_OK;

    char why[512];
    enum mq_status s = MQ_ERR_UNREACHABLE;
    switch (rc) {
    /* A certificate that cannot be verified stays so until a person acts:
     * MQ_ERR_TLS is not retried. */
    case AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED:
        snprintf(why, sizeof why, "the TLS certificate does not match the host name");
        s = MQ_ERR_TLS;
        break;
    case AMQP_STATUS_SSL_PEER_VERIFY_FAILED:
        if (m->tls_name_mismatch)
            snprintf(why, sizeof why,
                     "the TLS certificate does not match the name '%s' (server_name_indication)",
                     m->tls_name);
        else
            snprintf(why, sizeof why, "the TLS certificate cannot be verified (see --cacert)");
        s = MQ_ERR_TLS;
        break;
    case AMQP_STATUS_SSL_CONNECTION_FAILED:
    case AMQP_STATUS_SSL_ERROR:
        s = tls_failed(m, c, a, why, sizeof why);
        break;
    case AMQP_STATUS_TIMEOUT:
        snprintf(why, sizeof why, "timed out");
        break;
    case AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED:
        snprintf(why, sizeof why, "host not found");
        break;
    default:
        mq_priv_diagnose_tcp(a->u.host, a->u.port,
                             (int)(a->timeout_ms > 5000 ? 5000 : a->timeout_ms), why, sizeof why);
        break;
    }
    snprintf(err, errlen, "cannot connect to %s: %s", m->display_url, why);
    return s;
}

/*
 * The login failed before the broker's connection.start arrived (see
 * start_arrived): whatever is on the port has not asked for credentials,
 * so this is never a wrong password. Say what is there instead: over TLS
 * from the broker's alert or the library's status, in plain from a probe
 * of our own.
 */
static enum mq_status handshake_failed(struct mq *m, const struct cfg *c, const struct attempt *a,
                                       amqp_rpc_reply_t r, char *err, size_t errlen)
{
    char why[512];
    enum mq_status s = MQ_ERR_UNREACHABLE;
    int rc = r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION ? r.library_error : 0;
    if (rc == AMQP_STATUS_INCOMPATIBLE_AMQP_VERSION) {
        snprintf(why, sizeof why,
                 "the server speaks another version of AMQP (scanmove speaks 0-9-1)");
        s = MQ_ERR_NOT_AMQP;
    } else if (a->u.tls &&
               (m->tls_alert[0] != '\0' || (m->tls_cert_requested && rc != AMQP_STATUS_TIMEOUT))) {
        /* TLS 1.3: the broker judges the client certificate after the
         * handshake, and its alert arrives with the first read. */
        s = mq_priv_tls_alert_why(m, c, &a->u, why, sizeof why);
    } else if (a->u.tls) {
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
        mq_priv_probe(a->u.host, a->u.port, probe_ms(a), &p);
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

/* Read "product", "version" and "cluster_name" from the broker's
 * connection.start, and the address the socket is connected to. */
static void read_server(struct mq *m)
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
        else if (e->key.len == 12 && memcmp(e->key.bytes, "cluster_name", 12) == 0)
            mq_priv_bytes_to_str(e->value.value.bytes, m->cluster_name, sizeof m->cluster_name);
    }
    snprintf(m->server_version, sizeof m->server_version, "%s%s%s", product, version[0] ? " " : "",
             version);
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    char host[INET6_ADDRSTRLEN] = "";
    int fd = amqp_get_sockfd(m->conn);
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&sa, &len) != 0)
        return;
    if (sa.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(m->peer, sizeof m->peer, "%s:%u", host, (unsigned)ntohs(in->sin_port));
    } else if (sa.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(m->peer, sizeof m->peer, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
    }
}

/* The broker refused the login (r, which arrived after connection.start):
 * say whether it was who we are, the vhost, or something else. */
static enum mq_status login_refused(struct mq *m, const struct attempt *a, amqp_rpc_reply_t r,
                                    char *err, size_t errlen)
{
    const struct mq_url *u = &a->u;
    char doing[320];
    snprintf(doing, sizeof doing, "logging in as '%s'", u->external ? "(EXTERNAL)" : u->user);
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error == AMQP_STATUS_BROKER_UNSUPPORTED_SASL_METHOD) {
        snprintf(err, errlen, "the broker at %s does not offer the %s login%s", m->display_url,
                 u->external ? "EXTERNAL" : "PLAIN",
                 u->external ? " (is its rabbitmq_auth_mechanism_ssl plugin enabled?)" : "");
        return MQ_ERR_AUTH;
    }
    enum mq_status s = mq_priv_reply_error(m, r, doing, err, errlen);
    if (s == MQ_ERR_ACCESS && r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        r.reply.id == AMQP_CONNECTION_CLOSE_METHOD &&
        ((amqp_connection_close_t *)r.reply.decoded)->reply_code == AMQP_ACCESS_REFUSED) {
        /* 403 on connection.start-ok is the authentication failure
         * (authentication_failure_close); 403/530 after it concern the vhost. */
        if (u->external)
            snprintf(err, errlen,
                     "the broker at %s refused the EXTERNAL login of the client "
                     "certificate (no user of that name?)",
                     m->display_url);
        else
            snprintf(err, errlen, "authentication failed for user '%s' at %s", u->user,
                     m->display_url);
        return MQ_ERR_AUTH;
    }
    if (s == MQ_ERR_ACCESS) {
        snprintf(err, errlen, "access to vhost '%s' refused for user '%s' at %s", u->vhost,
                 u->external ? "(EXTERNAL)" : u->user, m->display_url);
        return s;
    }
    if (s == MQ_ERR_CLOSED && r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error == AMQP_STATUS_TIMEOUT) {
        /* A slow broker (or its authentication backend), not a refusal. */
        snprintf(err, errlen,
                 "cannot connect to %s: the broker did not finish the login in time "
                 "(see --connect-timeout)",
                 m->display_url);
        return MQ_ERR_UNREACHABLE;
    }
    if (s == MQ_ERR_CLOSED) {
        /* Brokers that ignore authentication_failure_close just hang up. */
        snprintf(err, errlen,
                 "the broker at %s closed the connection during login "
                 "(wrong user name or password?)",
                 m->display_url);
        return MQ_ERR_AUTH;
    }
    return s;
}

/* Log in on m's open socket with a's credentials. */
static enum mq_status login(struct mq *m, const struct cfg *c, const struct attempt *a,
                            const char *conn_name, char *err, size_t errlen)
{
    struct timeval hs = mq_priv_timeval(a->timeout_ms);
    amqp_set_handshake_timeout(m->conn, &hs);
    amqp_table_entry_t caps[5], props[4];
    amqp_table_t t = client_properties(conn_name, caps, props);
    amqp_rpc_reply_t r;
    if (a->u.external)
        /* The broker takes the user from the certificate; the identity
         * sent is ignored by RabbitMQ's EXTERNAL mechanism (and must not
         * be empty: rabbitmq-c 0.11 fails to allocate 0 bytes for it). */
        r = amqp_login_with_properties(m->conn, a->u.vhost, 0, MQ_FRAME_MAX, (int)a->heartbeat_s,
                                       &t, AMQP_SASL_METHOD_EXTERNAL, "scanmove");
    else
        r = amqp_login_with_properties(m->conn, a->u.vhost, 0, MQ_FRAME_MAX, (int)a->heartbeat_s,
                                       &t, AMQP_SASL_METHOD_PLAIN, a->u.user, a->u.password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL && !start_arrived(m))
        return handshake_failed(m, c, a, r, err, errlen);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        return login_refused(m, a, r, err, errlen);
    m->conn_open = 1;
    m->was_open = 1;
    read_server(m);
    /* No RPC may wait forever (a broker that stopped answering but keeps
     * the socket open); the library's default is to wait forever. */
    struct timeval rpc = mq_priv_timeval(a->timeout_ms > 30000 ? a->timeout_ms : 30000);
    amqp_set_rpc_timeout(m->conn, &rpc);
    return MQ_OK;
}

/* Parse urls[i] of c into a with the settings that apply to it. */
static enum mq_status prepare(const struct cfg *c, size_t i, struct attempt *a, char *err,
                              size_t errlen)
{
    char why[512];
    if (mq_url_parse(c->urls[i], &a->u, why, sizeof why) < 0) {
        if (c->n_urls > 1)
            snprintf(err, errlen, "broker URL %zu of %zu: %s", i + 1, c->n_urls, why);
        else
            snprintf(err, errlen, "%s", why);
        return MQ_ERR_CONFIG;
    }
    if (a->u.external && !a->u.tls) {
        snprintf(err, errlen,
                 "auth_mechanism=external needs an amqps:// URL and a client "
                 "certificate");
        return MQ_ERR_CONFIG;
    }
    if (a->u.external && a->u.certfile[0] == '\0' && c->cert[0] == '\0') {
        snprintf(err, errlen,
                 "auth_mechanism=external needs a client certificate (--cert, or "
                 "certfile in the URL)");
        return MQ_ERR_CONFIG;
    }
    a->timeout_ms = a->u.connect_timeout_ms > 0 ? a->u.connect_timeout_ms : c->connect_timeout_ms;
    a->heartbeat_s = a->u.heartbeat_s >= 0 ? (uint32_t)a->u.heartbeat_s : c->heartbeat_s;
    return MQ_OK;
}

/* One attempt at urls[i] of c (prepared in a). *unsure is set when the
 * broker asked for a client certificate and hung up without saying why:
 * a refusal whose TLS 1.3 alert was lost, or a broker going down. */
static enum mq_status attempt_once(const struct cfg *c, size_t i, const struct attempt *a,
                                   const char *conn_name, struct mq **out, int *unsure, char *err,
                                   size_t errlen)
{
    enum mq_status s;
    struct mq *m = calloc(1, sizeof *m);
    *unsure = 0;
    if (m == NULL || (m->conn = amqp_new_connection()) == NULL) {
        free(m);
        snprintf(err, errlen, "out of memory");
        return MQ_ERR_PROTOCOL;
    }
    m->node = i;
    m->n_nodes = c->n_urls;
    mq_url_format(&a->u, m->display_url, sizeof m->display_url);
    if ((s = open_socket(m, c, a, err, errlen)) == MQ_OK &&
        (s = login(m, c, a, conn_name, err, errlen)) == MQ_OK &&
        (s = mq_priv_open_channel(m, err, errlen)) == MQ_OK) {
        *out = m;
        return MQ_OK;
    }
    *unsure = s == MQ_ERR_AUTH && m->tls_cert_requested && m->tls_alert[0] == '\0';
    m->was_open = 0; /* a failed attempt is not a lost connection */
    mq_close(m);
    return s;
}

/* One attempt at urls[i] of c; a hang-up after a certificate request is
 * tried once more at once, and is a refusal only when it comes again (a
 * broker going down answers the second with a refused connection). */
static enum mq_status connect_one(const struct cfg *c, size_t i, const char *conn_name,
                                  struct mq **out, char *err, size_t errlen)
{
    struct attempt a;
    int unsure = 0;
    *out = NULL;
    enum mq_status s = prepare(c, i, &a, err, errlen);
    for (int tries = 0; s == MQ_OK || (unsure && tries < 2); tries++) {
        s = attempt_once(c, i, &a, conn_name, out, &unsure, err, errlen);
        if (!unsure)
            break;
    }
    return s;
}

enum mq_status mq_connect_node(const struct cfg *c, size_t i, const char *conn_name,
                               struct mq **out, char *err, size_t errlen)
{
    if (i >= c->n_urls) {
        *out = NULL;
        snprintf(err, errlen, "no broker URL number %zu", i + 1);
        return MQ_ERR_CONFIG;
    }
    return connect_one(c, i, conn_name, out, err, errlen);
}

/* Which failure a round ends with (st[i]: urls[i]'s): one that may go
 * away when any node may come back; else, when every node refused the
 * login, the refusal; else the failure of the first URL of the list (not
 * of the first tried: the order may be random). */
static enum mq_status round_status(const enum mq_status *st, size_t n)
{
    int refused = 1;
    for (size_t i = 0; i < n; i++) {
        if (mq_transient(st[i]))
            return MQ_ERR_UNREACHABLE;
        refused &= st[i] == MQ_ERR_AUTH || st[i] == MQ_ERR_ACCESS;
    }
    for (size_t i = 0; refused && i < n; i++)
        if (st[i] == MQ_ERR_AUTH)
            return MQ_ERR_AUTH;
    return st[0];
}

enum mq_status mq_connect(const struct cfg *c, const char *conn_name, struct mq **out, char *err,
                          size_t errlen)
{
    size_t n = c->n_urls;
    struct attempt a;
    *out = NULL;
    for (size_t i = 0; i < n; i++) /* a broken URL anywhere is said at once */
        if (prepare(c, i, &a, err, errlen) != MQ_OK)
            return MQ_ERR_CONFIG;
    if (n == 1)
        return connect_one(c, 0, conn_name, out, err, errlen);
    enum mq_status st[CFG_URLS_MAX];
    size_t used = (size_t)snprintf(err, errlen, "no broker of %zu accepted the connection", n);
    for (size_t k = 0; k < n; k++) {
        size_t pos = (next_pos + k) % n;
        char why[1024];
        enum mq_status s = connect_one(c, c->url_order[pos], conn_name, out, why, sizeof why);
        if (s == MQ_OK) {
            (*out)->pos = pos;
            next_pos = pos;
            return MQ_OK;
        }
        if (s == MQ_ERR_CONFIG) { /* an unreadable file: no other node can mend it */
            snprintf(err, errlen, "%s", why);
            return s;
        }
        st[c->url_order[pos]] = s;
        if (used < errlen)
            used += (size_t)snprintf(err + used, errlen - used, "%s %s", k == 0 ? ":" : ";", why);
    }
    return round_status(st, n);
}

void mq_priv_node_closed(const struct mq *m)
{
    /* Lost (not closed by us, nor a failed attempt): start the next round
     * at the next node, once, however many connections it had. */
    if (m->was_open && !m->conn_open && m->n_nodes > 1 && next_pos == m->pos)
        next_pos = (m->pos + 1) % m->n_nodes;
}

const char *mq_peer_address(const struct mq *m)
{
    return m->peer;
}

const char *mq_cluster_name(const struct mq *m)
{
    return m->cluster_name;
}

size_t mq_node_index(const struct mq *m)
{
    return m->node;
}
