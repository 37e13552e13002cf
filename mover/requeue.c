/* requeue.c - move --requeue-dead; see requeue.h. */
#include "requeue.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

enum mq_status requeue_dead(const struct cfg *c, const char *conn_name, uint64_t limit,
                            volatile sig_atomic_t *stop, uint64_t *done, char *err, size_t errlen)
{
    struct mq *m;
    char dead[CFG_NAME_MAX + 1];
    cfg_dead_name(c, dead); /* fits: mq_declare_topology refuses it otherwise */
    *done = 0;
    enum mq_status s = mq_connect(c, conn_name, &m, err, errlen);
    if (s != MQ_OK)
        return s;
    if ((s = mq_declare_topology(m, c, NULL, err, errlen)) != MQ_OK ||
        (s = mq_confirm_select(m, err, errlen)) != MQ_OK) {
        mq_close(m);
        return s;
    }
    /* One at a time: basic.get must not meet a pending confirm. */
    while (!*stop && (limit == 0 || *done < limit)) {
        struct mq_delivery d;
        int got;
        uint64_t seq;
        if ((s = mq_get(m, dead, &d, &got, err, errlen)) != MQ_OK || !got)
            break;
        s = mq_publish(m, c->exchange, c->routing_key, d.body, d.len, d.message_id, NULL,
                       (uint64_t)time(NULL), &seq, err, errlen);
        if (s == MQ_OK)
            s = mq_wait_confirm(m, seq, "the requeued message (is the queue bound?)", err, errlen);
        if (s == MQ_OK)
            s = mq_ack(m, d.tag, 0, err, errlen);
        if (s != MQ_OK)
            break;
        (*done)++;
    }
    mq_close(m);
    return s;
}
