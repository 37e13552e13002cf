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

static enum mq_status declare_exchange(struct mq *m, const char *name, char *err, size_t errlen)
{
    char doing[320];
    snprintf(doing, sizeof doing, "declaring exchange '%s'", name);
    amqp_exchange_declare(m->conn, MQ_CHANNEL, amqp_cstring_bytes(name),
                          amqp_cstring_bytes("direct"), 0, 1, 0, 0, amqp_empty_table);
    return mq_priv_reply_error(m, amqp_get_rpc_reply(m->conn), doing, err, errlen);
}

static enum mq_status declare_queue(struct mq *m, const char *name, amqp_table_t args,
                                    uint32_t *messages, uint32_t *consumers, char *err,
                                    size_t errlen)
{
    char doing[320];
    snprintf(doing, sizeof doing, "declaring queue '%s'", name);
    amqp_queue_declare_ok_t *ok =
        amqp_queue_declare(m->conn, MQ_CHANNEL, amqp_cstring_bytes(name), 0, 1, 0, 0, args);
    enum mq_status s = mq_priv_reply_error(m, amqp_get_rpc_reply(m->conn), doing, err, errlen);
    if (s == MQ_OK && ok != NULL) {
        if (messages != NULL)
            *messages = ok->message_count;
        if (consumers != NULL)
            *consumers = ok->consumer_count;
    }
    if (s == MQ_ERR_TOPOLOGY) {
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        const char *text = strstr(why, ": ");
        snprintf(err, errlen,
                 "queue '%s' exists with other settings (%s); declare it as it was made "
                 "(--queue-type, --delivery-limit) or delete it",
                 name, text != NULL ? text + 2 : why);
    }
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

enum mq_status mq_declare_topology(struct mq *m, const struct cfg *c, struct mq_queue_info *info,
                                   char *err, size_t errlen)
{
    char dlx[CFG_NAME_MAX + 1], dead[CFG_NAME_MAX + 1];
    int quorum = c->queue_type == CFG_QUEUE_QUORUM;
    const char *type = cfg_queue_type_name(c->queue_type);
    struct mq_queue_info qi = {0, 0, 0};
    enum mq_status s;

    if (cfg_dlx_name(c, dlx) < 0 || cfg_dead_name(c, dead) < 0) {
        snprintf(err, errlen, "the exchange or queue name is too long to add .dlx or .dead");
        return MQ_ERR_CONFIG;
    }
    if (!m->channel_open && m->conn_open && (s = mq_priv_open_channel(m, err, errlen)) != MQ_OK)
        return s;
    if (!m->channel_open) {
        snprintf(err, errlen, "the connection to %s is closed", m->display_url);
        return MQ_ERR_CLOSED;
    }

    amqp_table_entry_t dead_args[1];
    mq_priv_arg_str(&dead_args[0], "x-queue-type", type);
    amqp_table_t dead_table = {.num_entries = 1, .entries = dead_args};

    if ((s = declare_exchange(m, c->exchange, err, errlen)) != MQ_OK)
        goto out;

    amqp_table_entry_t args[6];
    int n = 0;
    mq_priv_arg_str(&args[n++], "x-queue-type", type);
    mq_priv_arg_str(&args[n++], "x-dead-letter-exchange", dlx);
    mq_priv_arg_str(&args[n++], "x-dead-letter-routing-key", c->routing_key);
    if (quorum) {
        /* Without a limit a poison message would be redelivered forever;
         * at-least-once dead-lettering (with reject-publish overflow, which
         * it requires) keeps dead letters from being lost in transit. */
        if (c->delivery_limit > 0)
            mq_priv_arg_i64(&args[n++], "x-delivery-limit", c->delivery_limit);
        mq_priv_arg_str(&args[n++], "x-dead-letter-strategy", "at-least-once");
        mq_priv_arg_str(&args[n++], "x-overflow", "reject-publish");
    }
    amqp_table_t table = {.num_entries = n, .entries = args};
    if ((s = declare_queue(m, c->queue, table, &qi.messages, &qi.consumers, err, errlen)) !=
            MQ_OK ||
        (s = bind_queue(m, c->queue, c->exchange, c->routing_key, err, errlen)) != MQ_OK)
        goto out;
    /* The dead-letter side second, so that a mismatch is reported on the
     * queue the user named. Until it exists, at-least-once dead-lettering
     * keeps dead letters in the main queue rather than dropping them. */
    if ((s = declare_exchange(m, dlx, err, errlen)) != MQ_OK ||
        (s = declare_queue(m, dead, dead_table, &qi.dead_messages, NULL, err, errlen)) != MQ_OK ||
        (s = bind_queue(m, dead, dlx, c->routing_key, err, errlen)) != MQ_OK)
        goto out;
    if (info != NULL)
        *info = qi;
out:
    if (s != MQ_OK && m->conn_open && !m->channel_open) {
        char ignored[64];
        mq_priv_open_channel(m, ignored, sizeof ignored);
    }
    return s;
}
