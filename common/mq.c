/* mq.c - the broker connection's errors, unsolicited frames and close; see mq.h.
 * With mq_*.c, the only user of rabbitmq-c. */
#include "mq.h"
#include "mq_priv.h"

#include "exitcode.h"

#include <amqp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct timeval mq_priv_timeval(uint64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
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

enum mq_status mq_priv_open_channel(struct mq *m, char *err, size_t errlen)
{
    amqp_channel_open(m->conn, MQ_CHANNEL);
    enum mq_status s =
        mq_priv_reply_error(m, amqp_get_rpc_reply(m->conn), "opening a channel", err, errlen);
    if (s == MQ_OK)
        m->channel_open = 1;
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
    mq_priv_node_closed(m); /* before a close of ours looks like a loss */
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
