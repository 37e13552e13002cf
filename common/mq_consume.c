/* mq_consume.c - consuming with manual acks, basic.get, and heartbeats; see mq.h. */
#include "mq.h"
#include "clock.h"
#include "mq_priv.h"

#include <stdint.h>
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

/* An integer (or timestamp) header value as a count or a time; -1 when it is
 * of another type, or negative. */
static int64_t field_int(const amqp_field_value_t *v)
{
    switch (v->kind) {
    case AMQP_FIELD_KIND_I8:
        return v->value.i8 < 0 ? -1 : v->value.i8;
    case AMQP_FIELD_KIND_U8:
        return v->value.u8;
    case AMQP_FIELD_KIND_I16:
        return v->value.i16 < 0 ? -1 : v->value.i16;
    case AMQP_FIELD_KIND_U16:
        return v->value.u16;
    case AMQP_FIELD_KIND_I32:
        return v->value.i32 < 0 ? -1 : v->value.i32;
    case AMQP_FIELD_KIND_U32:
        return v->value.u32;
    case AMQP_FIELD_KIND_I64:
        return v->value.i64 < 0 ? -1 : v->value.i64;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
        return v->value.u64 > INT64_MAX ? -1 : (int64_t)v->value.u64;
    default:
        return -1;
    }
}

/* A string header value into out; 0 when it is of another type. */
static int field_str(const amqp_field_value_t *v, char *out, size_t outlen)
{
    if (v->kind != AMQP_FIELD_KIND_UTF8 && v->kind != AMQP_FIELD_KIND_BYTES)
        return 0;
    mq_priv_bytes_to_str(v->value.bytes, out, outlen);
    return 1;
}

static int key_is(amqp_bytes_t key, const char *name)
{
    return key.len == strlen(name) && memcmp(key.bytes, name, key.len) == 0;
}

/* The broker's x-death entries, one per queue and reason, each with a count. */
struct deaths {
    uint64_t count, first, last;
    char reason[MQ_DEAD_REASON_MAX + 1]; /* of the latest */
    char queue[256];                     /* of the latest */
};

static void read_deaths(const amqp_array_t *a, struct deaths *dt)
{
    for (int i = 0; i < a->num_entries; i++) {
        if (a->entries[i].kind != AMQP_FIELD_KIND_TABLE)
            continue;
        const amqp_table_t *t = &a->entries[i].value.table;
        int64_t count = 1, time = 0;
        char reason[MQ_DEAD_REASON_MAX + 1] = "", queue[256] = "";
        for (int j = 0; j < t->num_entries; j++) {
            const amqp_table_entry_t *e = &t->entries[j];
            if (key_is(e->key, "count") && field_int(&e->value) > 0)
                count = field_int(&e->value);
            else if (key_is(e->key, "time") && field_int(&e->value) > 0)
                time = field_int(&e->value);
            else if (key_is(e->key, "reason"))
                field_str(&e->value, reason, sizeof reason);
            else if (key_is(e->key, "queue"))
                field_str(&e->value, queue, sizeof queue);
        }
        /* The broker lists the latest first; a tie keeps the first. */
        if (dt->count == 0 || (uint64_t)time > dt->last) {
            dt->last = (uint64_t)time;
            snprintf(dt->reason, sizeof dt->reason, "%s", reason);
            snprintf(dt->queue, sizeof dt->queue, "%s", queue);
        }
        if (dt->count == 0 || (time > 0 && (uint64_t)time < dt->first))
            dt->first = (uint64_t)time;
        dt->count += (uint64_t)count;
    }
}

void mq_priv_dead_info(const amqp_basic_properties_t *p, struct mq_dead_info *di)
{
    memset(di, 0, sizeof *di);
    struct deaths dt;
    memset(&dt, 0, sizeof dt);
    int64_t first = -1, count = -1;
    int ours = 0;
    for (int i = 0; (p->_flags & AMQP_BASIC_HEADERS_FLAG) && i < p->headers.num_entries; i++) {
        const amqp_table_entry_t *e = &p->headers.entries[i];
        if (key_is(e->key, MQ_HEADER_REASON))
            ours = field_str(&e->value, di->reason, sizeof di->reason);
        else if (key_is(e->key, MQ_HEADER_ERROR))
            field_str(&e->value, di->error, sizeof di->error);
        else if (key_is(e->key, MQ_HEADER_FIRST_DEAD))
            first = field_int(&e->value);
        else if (key_is(e->key, MQ_HEADER_DEAD_COUNT))
            count = field_int(&e->value);
        else if (key_is(e->key, "x-death") && e->value.kind == AMQP_FIELD_KIND_ARRAY)
            read_deaths(&e->value.value.array, &dt);
    }
    /* A letter from a mover older than these headers was dead-lettered once. */
    di->count = count >= 0 ? (uint64_t)count : (uint64_t)ours;
    di->first = first > 0 ? (uint64_t)first : 0;
    if (ours && (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG))
        di->last = p->timestamp;
    if (di->first == 0)
        di->first = di->last;
    if (dt.count > 0) {
        /* x-death is the broker's: it dead-lettered the message last (a
         * mover dead-lettering it publishes a new one, without x-death). */
        di->count += dt.count;
        di->first = di->first > 0 ? di->first : dt.first;
        di->last = dt.last;
        snprintf(di->reason, sizeof di->reason, "%s", dt.reason);
        for (char *c = di->reason; *c != '\0'; c++)
            *c = *c == '_' ? '-' : *c;
        snprintf(di->error, sizeof di->error, "the broker dead-lettered it from queue '%s' (%s)",
                 dt.queue, dt.reason);
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
    mq_priv_dead_info(&m->env.message.properties, &d->dead);
    if (m->env.message.properties._flags & AMQP_BASIC_TIMESTAMP_FLAG)
        d->timestamp = m->env.message.properties.timestamp;
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
    struct timeval tv = mq_priv_timeval((uint64_t)timeout_ms);
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

enum mq_status mq_peek_timestamp(struct mq *m, const char *queue, int *found, uint64_t *ts,
                                 char *err, size_t errlen)
{
    struct mq_delivery d;
    *found = 0;
    *ts = 0;
    enum mq_status s = mq_get(m, queue, &d, found, err, errlen);
    if (s != MQ_OK || !*found)
        return s;
    *ts = d.timestamp;
    return mq_requeue(m, d.tag, 0, err, errlen);
}
