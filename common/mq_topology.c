/* mq_topology.c - declaring the exchanges and queues both tools use; see mq.h. */
#include "mq.h"
#include "mq_priv.h"

#include <stdio.h>
#include <string.h>

void mq_priv_arg_str(amqp_table_entry_t *e, const char *key, const char *val)
{
    e->key = amqp_cstring_bytes(key);
    e->value.kind = AMQP_FIELD_KIND_UTF8;
    e->value.value.bytes = amqp_cstring_bytes(val);
}

void mq_priv_arg_i64(amqp_table_entry_t *e, const char *key, int64_t val)
{
    e->key = amqp_cstring_bytes(key);
    e->value.kind = AMQP_FIELD_KIND_I64;
    e->value.value.i64 = val;
}

/*
 * A passive declare's reply r: MQ_ERR_MISSING with a sentence saying so
 * when the broker answers 404 (closing the channel), else as
 * mq_priv_reply_error. kind and name say what was asked for; hint ends the
 * sentence.
 */
static enum mq_status passive_reply(struct mq *m, amqp_rpc_reply_t r, const char *kind,
                                    const char *name, const char *hint, char *err, size_t errlen)
{
    char doing[320];
    int missing = r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
                  r.reply.id == AMQP_CHANNEL_CLOSE_METHOD &&
                  ((amqp_channel_close_t *)r.reply.decoded)->reply_code == AMQP_NOT_FOUND;
    snprintf(doing, sizeof doing, "looking for %s '%s'", kind, name);
    enum mq_status s = mq_priv_reply_error(m, r, doing, err, errlen);
    if (s == MQ_ERR_TOPOLOGY && missing) {
        snprintf(err, errlen, "%s '%s' does not exist on %s: %s", kind, name, m->display_url, hint);
        return MQ_ERR_MISSING;
    }
    return s;
}

static enum mq_status declare_exchange(struct mq *m, const char *name, int passive,
                                       const char *hint, char *err, size_t errlen)
{
    char doing[320];
    amqp_exchange_declare(m->conn, MQ_CHANNEL, amqp_cstring_bytes(name),
                          amqp_cstring_bytes("direct"), passive, 1, 0, 0, amqp_empty_table);
    if (passive)
        return passive_reply(m, amqp_get_rpc_reply(m->conn), "exchange", name, hint, err, errlen);
    snprintf(doing, sizeof doing, "declaring exchange '%s'", name);
    return mq_priv_reply_error(m, amqp_get_rpc_reply(m->conn), doing, err, errlen);
}

enum mq_status mq_check_exchange(struct mq *m, const char *name, const char *hint, char *err,
                                 size_t errlen)
{
    if (!m->channel_open) {
        snprintf(err, errlen, "the connection to %s is closed", m->display_url);
        return MQ_ERR_CLOSED;
    }
    enum mq_status s = declare_exchange(m, name, 1, hint, err, errlen);
    if (s != MQ_OK && m->conn_open && !m->channel_open) {
        char ignored[64];
        mq_priv_open_channel(m, ignored, sizeof ignored);
    }
    return s;
}

/* The sentence for a queue that exists with other settings than asked
 * (the broker's reason in err). A routing key that differs is most likely
 * the default of older versions, which was "files" for every queue. */
static void queue_mismatch(const char *name, char *err, size_t errlen)
{
    char why[512];
    snprintf(why, sizeof why, "%s", err);
    const char *text = strstr(why, ": ");
    text = text != NULL ? text + 2 : why;
    if (strstr(text, "x-dead-letter-routing-key") != NULL)
        snprintf(err, errlen,
                 "queue '%s' exists with other settings (%s); it was made with another routing "
                 "key (older versions used 'files' for every queue): give --routing-key as it "
                 "was made, or delete it",
                 name, text);
    else
        snprintf(err, errlen,
                 "queue '%s' exists with other settings (%s); declare it as it was made "
                 "(--queue-type, --delivery-limit) or delete it",
                 name, text);
}

/* Declare queue name with args (passive: only look, hint ending the
 * sentence for a missing one); its message and consumer counts into
 * *counts[0] and *counts[1] (each may be NULL). */
static enum mq_status declare_queue(struct mq *m, const char *name, amqp_table_t args, int passive,
                                    const char *hint, uint32_t *counts[2], char *err, size_t errlen)
{
    char doing[320];
    enum mq_status s;
    amqp_queue_declare_ok_t *ok =
        amqp_queue_declare(m->conn, MQ_CHANNEL, amqp_cstring_bytes(name), passive, 1, 0, 0, args);
    if (passive) {
        s = passive_reply(m, amqp_get_rpc_reply(m->conn), "queue", name, hint, err, errlen);
    } else {
        snprintf(doing, sizeof doing, "declaring queue '%s'", name);
        s = mq_priv_reply_error(m, amqp_get_rpc_reply(m->conn), doing, err, errlen);
    }
    if (s == MQ_OK && ok != NULL) {
        if (counts[0] != NULL)
            *counts[0] = ok->message_count;
        if (counts[1] != NULL)
            *counts[1] = ok->consumer_count;
    }
    if (s == MQ_ERR_TOPOLOGY)
        queue_mismatch(name, err, errlen);
    return s;
}

static enum mq_status bind_queue(struct mq *m, const char *queue, const char *exchange,
                                 const char *key, char *err, size_t errlen)
{
    char doing[800];
    snprintf(doing, sizeof doing, "binding queue '%s' to exchange '%s'", queue, exchange);
    amqp_queue_bind(m->conn, MQ_CHANNEL, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange),
                    amqp_cstring_bytes(key), amqp_empty_table);
    return mq_priv_reply_error(m, amqp_get_rpc_reply(m->conn), doing, err, errlen);
}

/* The names and queue arguments of c's topology, built once for a declare
 * or an inspection, and the counts found. The tables and count pointers
 * point into this struct and into c. */
struct topo {
    char dlx[CFG_NAME_MAX + 1], dead[CFG_NAME_MAX + 1];
    amqp_table_entry_t args[6], dead_args[1];
    amqp_table_t table, dead_table;
    struct mq_queue_info qi;
    uint32_t *counts[2], *dead_counts[2], *none[2];
};

/* Fill t from c and make sure the channel is open: MQ_OK, or the failure. */
static enum mq_status topo_init(struct topo *t, struct mq *m, const struct cfg *c, char *err,
                                size_t errlen)
{
    const char *type = cfg_queue_type_name(c->queue_type);
    enum mq_status s;
    if (cfg_dlx_name(c, t->dlx) < 0 || cfg_dead_name(c, t->dead) < 0) {
        snprintf(err, errlen, "the exchange or queue name is too long to add .dlx or .dead");
        return MQ_ERR_CONFIG;
    }
    if (!m->channel_open && m->conn_open && (s = mq_priv_open_channel(m, err, errlen)) != MQ_OK)
        return s;
    if (!m->channel_open) {
        snprintf(err, errlen, "the connection to %s is closed", m->display_url);
        return MQ_ERR_CLOSED;
    }
    t->qi = (struct mq_queue_info){0, 0, 0, 0};
    t->counts[0] = &t->qi.messages;
    t->counts[1] = &t->qi.consumers;
    t->dead_counts[0] = &t->qi.dead_messages;
    t->dead_counts[1] = &t->qi.dead_consumers;
    t->none[0] = t->none[1] = NULL;
    mq_priv_arg_str(&t->dead_args[0], "x-queue-type", type);
    t->dead_table = (amqp_table_t){.num_entries = 1, .entries = t->dead_args};
    int n = 0;
    mq_priv_arg_str(&t->args[n++], "x-queue-type", type);
    mq_priv_arg_str(&t->args[n++], "x-dead-letter-exchange", t->dlx);
    mq_priv_arg_str(&t->args[n++], "x-dead-letter-routing-key", c->routing_key);
    if (c->queue_type == CFG_QUEUE_QUORUM) {
        /* Without a limit a poison message would be redelivered forever;
         * at-least-once dead-lettering (with reject-publish overflow, which
         * it requires) keeps dead letters from being lost in transit. */
        if (c->delivery_limit > 0)
            mq_priv_arg_i64(&t->args[n++], "x-delivery-limit", c->delivery_limit);
        mq_priv_arg_str(&t->args[n++], "x-dead-letter-strategy", "at-least-once");
        mq_priv_arg_str(&t->args[n++], "x-overflow", "reject-publish");
    }
    t->table = (amqp_table_t){.num_entries = n, .entries = t->args};
    return MQ_OK;
}

/* The end of a declare or an inspection with status s: the counts into
 * *info (may be NULL) on success; after a failure that closed the
 * channel, the channel opened again for the caller. */
static enum mq_status topo_done(struct mq *m, enum mq_status s, const struct topo *t,
                                struct mq_queue_info *info)
{
    if (s == MQ_OK && info != NULL)
        *info = t->qi;
    if (s != MQ_OK && m->conn_open && !m->channel_open) {
        char ignored[64];
        mq_priv_open_channel(m, ignored, sizeof ignored);
    }
    return s;
}

enum mq_status mq_declare_topology(struct mq *m, const struct cfg *c, struct mq_queue_info *info,
                                   char *err, size_t errlen)
{
    struct topo t;
    enum mq_status s = topo_init(&t, m, c, err, errlen);
    if (s != MQ_OK)
        return s;
    /* The dead-letter side second, so that a mismatch is reported on the
     * queue the user named. Until it exists, at-least-once dead-lettering
     * keeps dead letters in the main queue rather than dropping them. */
    if ((s = declare_exchange(m, c->exchange, 0, NULL, err, errlen)) != MQ_OK ||
        (s = declare_queue(m, c->queue, t.table, 0, NULL, t.counts, err, errlen)) != MQ_OK ||
        (s = bind_queue(m, c->queue, c->exchange, c->routing_key, err, errlen)) != MQ_OK ||
        (s = declare_exchange(m, t.dlx, 0, NULL, err, errlen)) != MQ_OK ||
        (s = declare_queue(m, t.dead, t.dead_table, 0, NULL, t.dead_counts, err, errlen)) != MQ_OK)
        return topo_done(m, s, &t, info);
    s = bind_queue(m, t.dead, t.dlx, c->routing_key, err, errlen);
    return topo_done(m, s, &t, info);
}

enum mq_status mq_inspect_topology(struct mq *m, const struct cfg *c, struct mq_queue_info *info,
                                   char *err, size_t errlen)
{
    struct topo t;
    char dead_hint[CFG_NAME_MAX + 80];
    static const char made[] = "scan and move create it when they next run";
    static const char q_hint[] = "nothing has created it yet (a typo in --queue?); scan and "
                                 "move create it when they first run";
    static const char x_hint[] = "nothing has created it yet (a typo in --exchange?); scan and "
                                 "move create it when they first run";
    enum mq_status s = topo_init(&t, m, c, err, errlen);
    if (s != MQ_OK)
        return s;
    snprintf(dead_hint, sizeof dead_hint, "although queue '%s' does; %s", c->queue, made);
    /* Passive declares first: they create nothing, and say 404 for what
     * is missing. The queue first, since it is the name most often given.
     * Then, all four existing, declared again with c's settings: each
     * changes nothing, or says which setting differs (a passive declare
     * compares none). XXX: one deleted by someone else in the few
     * milliseconds between would be made again, as scan or move would. */
    if ((s = declare_queue(m, c->queue, t.table, 1, q_hint, t.counts, err, errlen)) != MQ_OK ||
        (s = declare_exchange(m, c->exchange, 1, x_hint, err, errlen)) != MQ_OK ||
        (s = declare_queue(m, t.dead, t.dead_table, 1, dead_hint, t.dead_counts, err, errlen)) !=
            MQ_OK ||
        (s = declare_exchange(m, t.dlx, 1, made, err, errlen)) != MQ_OK ||
        (s = declare_exchange(m, c->exchange, 0, NULL, err, errlen)) != MQ_OK ||
        (s = declare_queue(m, c->queue, t.table, 0, NULL, t.none, err, errlen)) != MQ_OK ||
        (s = declare_exchange(m, t.dlx, 0, NULL, err, errlen)) != MQ_OK)
        return topo_done(m, s, &t, info);
    s = declare_queue(m, t.dead, t.dead_table, 0, NULL, t.none, err, errlen);
    return topo_done(m, s, &t, info);
}
