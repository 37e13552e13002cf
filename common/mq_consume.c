/* mq_consume.c - consuming with manual acks, basic.get, and heartbeats; see mq.h. */
#include "mq.h"
#include "clock.h"
#include "mq_priv.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

enum mq_status mq_consume(struct mq *m, const char *queue, uint16_t prefetch, char *err,
                          size_t errlen)
{
    amqp_basic_qos(m->conn, MQ_CHANNEL, 0, prefetch, 0);
    enum mq_status s =
        mq_priv_reply_error(m, amqp_get_rpc_reply(m->conn), "setting the prefetch", err, errlen);
    if (s != MQ_OK)
        return s;
    char doing[320];
    snprintf(doing, sizeof doing, "consuming from queue '%s'", queue);
    amqp_basic_consume(m->conn, MQ_CHANNEL, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    return mq_priv_reply_error(m, amqp_get_rpc_reply(m->conn), doing, err, errlen);
}

/* The previous delivery's body lives until the next call: free it now. */
static void drop_envelope(struct mq *m)
{
    if (m->have_env) {
        amqp_destroy_envelope(&m->env);
        m->have_env = 0;
    }
}

/* Describe the message now in m->env, delivery tag, in *d. */
static void fill_delivery(struct mq *m, uint64_t tag, int redelivered, struct mq_delivery *d)
{
    m->have_env = 1;
    memset(d, 0, sizeof *d);
    d->tag = tag;
    d->redelivered = redelivered;
    d->body = m->env.message.body.bytes;
    d->len = m->env.message.body.len;
    if (m->env.message.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
        mq_priv_bytes_to_str(m->env.message.properties.message_id, d->message_id,
                             sizeof d->message_id);
}

enum mq_status mq_next_delivery(struct mq *m, int timeout_ms, struct mq_delivery *d, int *got,
                                char *err, size_t errlen)
{
    *got = 0;
    drop_envelope(m);
    if (!m->conn_open) {
        snprintf(err, errlen, "the connection to %s is closed", m->display_url);
        return MQ_ERR_CLOSED;
    }
    amqp_maybe_release_buffers(m->conn);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    amqp_rpc_reply_t r = amqp_consume_message(m->conn, &m->env, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        fill_delivery(m, m->env.delivery_tag, m->env.redelivered, d);
        *got = 1;
        return MQ_OK;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
        return MQ_OK;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        /* A frame other than a delivery: read it and act on it. */
        amqp_frame_t f;
        int rc = amqp_simple_wait_frame(m->conn, &f);
        if (rc != AMQP_STATUS_OK)
            return mq_priv_lost(m, rc, "consuming", err, errlen);
        if (f.frame_type == AMQP_FRAME_METHOD && f.payload.method.id == AMQP_BASIC_CANCEL_METHOD) {
            m->conn_open = 0;
            snprintf(err, errlen, "the broker cancelled the consumer (queue deleted?)");
            return MQ_ERR_CLOSED;
        }
        enum mq_status s = mq_priv_handle_frame(m, &f, err, errlen);
        if (s != MQ_OK) {
            m->conn_open = m->conn_open && m->channel_open; /* no channel: start over */
            return s == MQ_ERR_ACCESS ? s : MQ_ERR_CLOSED;
        }
        return MQ_OK;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
        return mq_priv_lost(m, r.library_error, "consuming", err, errlen);
    return mq_priv_reply_error(m, r, "consuming", err, errlen) == MQ_OK ? MQ_OK : MQ_ERR_CLOSED;
}

enum mq_status mq_get(struct mq *m, const char *queue, struct mq_delivery *d, int *got, char *err,
                      size_t errlen)
{
    *got = 0;
    drop_envelope(m);
    if (!m->channel_open) {
        snprintf(err, errlen, "the connection to %s is closed", m->display_url);
        return MQ_ERR_CLOSED;
    }
    amqp_maybe_release_buffers(m->conn);
    char doing[320];
    snprintf(doing, sizeof doing, "getting a message from queue '%s'", queue);
    amqp_rpc_reply_t r = amqp_basic_get(m->conn, MQ_CHANNEL, amqp_cstring_bytes(queue), 0);
    enum mq_status s = mq_priv_reply_error(m, r, doing, err, errlen);
    if (s != MQ_OK)
        return s;
    if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
        return MQ_OK;
    const amqp_basic_get_ok_t *ok = r.reply.decoded;
    uint64_t tag = ok->delivery_tag;
    int redelivered = ok->redelivered;
    memset(&m->env, 0, sizeof m->env);
    r = amqp_read_message(m->conn, MQ_CHANNEL, &m->env.message, 0);
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
        return mq_priv_lost(m, r.library_error, doing, err, errlen);
    if ((s = mq_priv_reply_error(m, r, doing, err, errlen)) != MQ_OK)
        return s;
    fill_delivery(m, tag, redelivered, d);
    *got = 1;
    return MQ_OK;
}

/* A delivery tag belongs to its channel: after the channel is gone, acks
 * and nacks must not be sent (the broker would close the connection). */
static enum mq_status channel_gone(struct mq *m, char *err, size_t errlen)
{
    snprintf(err, errlen, "the connection to %s is closed", m->display_url);
    return MQ_ERR_CLOSED;
}

enum mq_status mq_ack(struct mq *m, uint64_t tag, int multiple, char *err, size_t errlen)
{
    if (!m->channel_open)
        return channel_gone(m, err, errlen);
    int rc = amqp_basic_ack(m->conn, MQ_CHANNEL, tag, multiple);
    return rc == AMQP_STATUS_OK ? MQ_OK : mq_priv_lost(m, rc, "acknowledging", err, errlen);
}

enum mq_status mq_requeue(struct mq *m, uint64_t tag, int multiple, char *err, size_t errlen)
{
    if (!m->channel_open)
        return channel_gone(m, err, errlen);
    int rc = amqp_basic_nack(m->conn, MQ_CHANNEL, tag, multiple, 1);
    return rc == AMQP_STATUS_OK ? MQ_OK : mq_priv_lost(m, rc, "requeueing", err, errlen);
}

enum mq_status mq_keepalive(struct mq *m, char *err, size_t errlen)
{
    int hb = amqp_get_heartbeat(m->conn);
    if (hb <= 0 || !m->conn_open)
        return MQ_OK;
    long now = mono_now_ms() / 1000;
    if (now - m->last_keepalive < (hb + 1) / 2)
        return MQ_OK;
    m->last_keepalive = now;
    amqp_frame_t f;
    memset(&f, 0, sizeof f);
    f.frame_type = AMQP_FRAME_HEARTBEAT;
    f.channel = 0;
    int rc = amqp_send_frame(m->conn, &f);
    return rc == AMQP_STATUS_OK ? MQ_OK : mq_priv_lost(m, rc, "sending a heartbeat", err, errlen);
}
