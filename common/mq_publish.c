/* mq_publish.c - publishing with publisher confirms, and dead letters; see mq.h. */
#include "mq.h"
#include "mq_priv.h"

#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

enum mq_status mq_confirm_select(struct mq *m, char *err, size_t errlen)
{
    amqp_confirm_select(m->conn, MQ_CHANNEL);
    enum mq_status s = mq_priv_reply_error(m, amqp_get_rpc_reply(m->conn),
                                           "turning on publisher confirms", err, errlen);
    if (s == MQ_OK)
        m->next_seq = 1;
    return s;
}

void mq_cork(struct mq *m, int on)
{
    int fd = amqp_get_sockfd(m->conn);
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
}

/* Properties every message of ours carries (persistent, app "scanmove"), plus flags. */
static void props_init(amqp_basic_properties_t *p, amqp_flags_t flags)
{
    memset(p, 0, sizeof *p);
    p->_flags = flags | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_APP_ID_FLAG;
    p->delivery_mode = AMQP_DELIVERY_PERSISTENT;
    p->app_id = amqp_cstring_bytes("scanmove");
}

/* Send body as a mandatory message with properties p; MQ_OK, or the lost
 * connection while doing ("publishing") with its sentence in err. */
static enum mq_status send_mandatory(struct mq *m, const char *exchange, const char *routing_key,
                                     const amqp_basic_properties_t *p, const void *body, size_t len,
                                     const char *doing, char *err, size_t errlen)
{
    amqp_bytes_t b = {.len = len, .bytes = (void *)body};
    int rc = amqp_basic_publish(m->conn, MQ_CHANNEL, amqp_cstring_bytes(exchange),
                                amqp_cstring_bytes(routing_key), 1, 0, p, b);
    return rc == AMQP_STATUS_OK ? MQ_OK : mq_priv_lost(m, rc, doing, err, errlen);
}

/* Properties of a message of ours in JSON: mq_publish's, but type. */
static void json_props_init(amqp_basic_properties_t *p, const char *message_id, uint64_t timestamp)
{
    props_init(p, AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
                      AMQP_BASIC_TIMESTAMP_FLAG);
    p->content_type = amqp_cstring_bytes("application/json");
    p->message_id = amqp_cstring_bytes(message_id);
    p->timestamp = timestamp;
}

/* Publish with p as mq_publish does: *seq the confirm's delivery tag. */
static enum mq_status publish_props(struct mq *m, const char *exchange, const char *routing_key,
                                    const amqp_basic_properties_t *p, const void *body, size_t len,
                                    uint64_t *seq, char *err, size_t errlen)
{
    if (!m->channel_open) {
        snprintf(err, errlen, "the connection to %s is closed", m->display_url);
        return MQ_ERR_CLOSED;
    }
    enum mq_status s =
        send_mandatory(m, exchange, routing_key, p, body, len, "publishing", err, errlen);
    if (s == MQ_OK)
        *seq = m->next_seq++;
    return s;
}

enum mq_status mq_publish(struct mq *m, const char *exchange, const char *routing_key,
                          const void *body, size_t len, const char *message_id, const char *type,
                          uint64_t timestamp, uint64_t *seq, char *err, size_t errlen)
{
    amqp_basic_properties_t p;
    json_props_init(&p, message_id, timestamp);
    if (type != NULL) {
        p._flags |= AMQP_BASIC_TYPE_FLAG;
        p.type = amqp_cstring_bytes(type);
    }
    return publish_props(m, exchange, routing_key, &p, body, len, seq, err, errlen);
}

enum mq_status mq_publish_undead(struct mq *m, const char *exchange, const char *routing_key,
                                 const void *body, size_t len, const char *message_id,
                                 const struct mq_dead_info *history, uint64_t *seq, char *err,
                                 size_t errlen)
{
    amqp_basic_properties_t p;
    json_props_init(&p, message_id, (uint64_t)time(NULL));
    amqp_table_entry_t h[2];
    int n = 0;
    if (history->first > 0)
        mq_priv_arg_i64(&h[n++], MQ_HEADER_FIRST_DEAD, (int64_t)history->first);
    if (history->count > 0)
        mq_priv_arg_i64(&h[n++], MQ_HEADER_DEAD_COUNT, (int64_t)history->count);
    if (n > 0) {
        p._flags |= AMQP_BASIC_HEADERS_FLAG;
        p.headers.num_entries = n;
        p.headers.entries = h;
    }
    return publish_props(m, exchange, routing_key, &p, body, len, seq, err, errlen);
}

enum mq_status mq_publish_dead(struct mq *m, const char *exchange, const char *routing_key,
                               const void *body, size_t len, const char *message_id,
                               const struct mq_dead_info *prior, const char *reason,
                               const char *error, char *err, size_t errlen)
{
    uint64_t now = (uint64_t)time(NULL);
    uint64_t first = prior != NULL && prior->first > 0 ? prior->first : now;
    uint64_t count = (prior != NULL ? prior->count : 0) + 1;
    amqp_table_entry_t h[4];
    mq_priv_arg_str(&h[0], MQ_HEADER_REASON, reason);
    mq_priv_arg_str(&h[1], MQ_HEADER_ERROR, error);
    mq_priv_arg_i64(&h[2], MQ_HEADER_FIRST_DEAD, (int64_t)first);
    mq_priv_arg_i64(&h[3], MQ_HEADER_DEAD_COUNT, (int64_t)count);
    amqp_basic_properties_t p;
    props_init(&p, AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_TIMESTAMP_FLAG);
    p.headers.num_entries = 4;
    p.headers.entries = h;
    p.timestamp = now;
    if (message_id != NULL && message_id[0] != '\0') {
        p._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
        p.message_id = amqp_cstring_bytes(message_id);
    }
    enum mq_status s =
        send_mandatory(m, exchange, routing_key, &p, body, len, "dead-lettering", err, errlen);
    if (s != MQ_OK)
        return s;
    return mq_wait_confirm(m, m->next_seq++, "the dead letter", err, errlen);
}

/* After a basic.return come a content header and body frames: read them,
 * keeping the message id, so that the connection stays in step. */
static enum mq_status read_returned(struct mq *m, struct mq_event *ev, char *err, size_t errlen)
{
    amqp_frame_t f;
    int rc = amqp_simple_wait_frame(m->conn, &f);
    if (rc != AMQP_STATUS_OK)
        return mq_priv_lost(m, rc, "reading a returned message", err, errlen);
    if (f.frame_type != AMQP_FRAME_HEADER) {
        snprintf(err, errlen, "the broker sent a returned message without a header");
        return MQ_ERR_PROTOCOL;
    }
    amqp_basic_properties_t *p = f.payload.properties.decoded;
    if (p != NULL && (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG))
        mq_priv_bytes_to_str(p->message_id, ev->message_id, sizeof ev->message_id);
    uint64_t want = f.payload.properties.body_size, got = 0;
    while (got < want) {
        rc = amqp_simple_wait_frame(m->conn, &f);
        if (rc != AMQP_STATUS_OK)
            return mq_priv_lost(m, rc, "reading a returned message", err, errlen);
        if (f.frame_type != AMQP_FRAME_BODY) {
            snprintf(err, errlen, "the broker sent a returned message with a short body");
            return MQ_ERR_PROTOCOL;
        }
        got += f.payload.body_fragment.len;
    }
    return MQ_OK;
}

/* A basic.ack or basic.nack for tag (and all before it when multiple) into *ev. */
static enum mq_status confirm_event(struct mq *m, struct mq_event *ev, enum mq_event_kind kind,
                                    uint64_t tag, amqp_boolean_t multiple)
{
    ev->kind = kind;
    ev->tag = tag;
    ev->multiple = multiple;
    amqp_maybe_release_buffers(m->conn);
    return MQ_OK;
}

enum mq_status mq_next_event(struct mq *m, int timeout_ms, struct mq_event *ev, char *err,
                             size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    if (!m->conn_open) {
        snprintf(err, errlen, "the connection to %s is closed", m->display_url);
        return MQ_ERR_CLOSED;
    }
    for (;;) {
        amqp_frame_t f;
        struct timeval tv = mq_priv_timeval((uint64_t)timeout_ms);
        int rc = amqp_simple_wait_frame_noblock(m->conn, &f, &tv);
        if (rc == AMQP_STATUS_TIMEOUT)
            return MQ_OK;
        if (rc != AMQP_STATUS_OK)
            return mq_priv_lost(m, rc, "waiting for confirms", err, errlen);
        if (f.frame_type != AMQP_FRAME_METHOD)
            continue;
        switch (f.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
            const amqp_basic_ack_t *a = f.payload.method.decoded;
            return confirm_event(m, ev, MQ_EVENT_ACK, a->delivery_tag, a->multiple);
        }
        case AMQP_BASIC_NACK_METHOD: {
            const amqp_basic_nack_t *n = f.payload.method.decoded;
            return confirm_event(m, ev, MQ_EVENT_NACK, n->delivery_tag, n->multiple);
        }
        case AMQP_BASIC_RETURN_METHOD: {
            amqp_basic_return_t *r = f.payload.method.decoded;
            ev->kind = MQ_EVENT_RETURN;
            mq_priv_bytes_to_str(r->reply_text, ev->reply_text, sizeof ev->reply_text);
            enum mq_status s = read_returned(m, ev, err, errlen);
            amqp_maybe_release_buffers(m->conn);
            return s;
        }
        default: {
            enum mq_status s = mq_priv_handle_frame(m, &f, err, errlen);
            if (s != MQ_OK)
                return s;
            /* Blocked/unblocked notices change state only; report them to
             * the caller as "nothing yet" so it can look at mq_blocked(). */
            if (f.payload.method.id == AMQP_CONNECTION_BLOCKED_METHOD ||
                f.payload.method.id == AMQP_CONNECTION_UNBLOCKED_METHOD)
                return MQ_OK;
        }
        }
    }
}

enum mq_status mq_wait_confirm(struct mq *m, uint64_t seq, const char *what, char *err,
                               size_t errlen)
{
    int returned = 0;
    for (;;) {
        struct mq_event ev;
        enum mq_status s = mq_next_event(m, 1000, &ev, err, errlen);
        if (s != MQ_OK)
            return s;
        if (ev.kind == MQ_EVENT_RETURN)
            returned = 1;
        if ((ev.kind == MQ_EVENT_ACK || ev.kind == MQ_EVENT_NACK) &&
            (ev.tag == seq || (ev.multiple && ev.tag >= seq))) {
            if (ev.kind == MQ_EVENT_ACK && !returned)
                return MQ_OK;
            snprintf(err, errlen, "the broker %s %s", returned ? "could not route" : "refused",
                     what);
            return MQ_ERR_PROTOCOL;
        }
    }
}

enum mq_status mq_check_publish(struct mq *m, const char *exchange, char *err, size_t errlen)
{
    if (!m->channel_open) {
        snprintf(err, errlen, "the connection to %s is closed", m->display_url);
        return MQ_ERR_CLOSED;
    }
    amqp_basic_properties_t p;
    props_init(&p, AMQP_BASIC_TYPE_FLAG);
    p.delivery_mode = AMQP_DELIVERY_NONPERSISTENT;
    p.type = amqp_cstring_bytes("scanmove.publish-check");
    /* The empty routing key: scanmove never binds by it (cfg refuses an
     * empty --routing-key), and not mandatory, so the broker drops the
     * message and confirms it, unless it refuses the publish itself. */
    int rc = amqp_basic_publish(m->conn, MQ_CHANNEL, amqp_cstring_bytes(exchange), amqp_empty_bytes,
                                0, 0, &p, amqp_empty_bytes);
    if (rc != AMQP_STATUS_OK)
        return mq_priv_lost(m, rc, "checking that we may publish", err, errlen);
    return mq_wait_confirm(m, m->next_seq++, "the publish check", err, errlen);
}
