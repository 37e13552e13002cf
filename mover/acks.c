/* acks.c - the mover's acknowledgements of finished deliveries, in groups:
 * after their moves are durable (--fsync) and their moved events confirmed
 * (--publish-moved); see consume_priv.h. */
#include "consume_priv.h"

#include "exitcode.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

unsigned acks_pending(const struct consumer *c)
{
    return c->ack_pending + c->wait_pending;
}

/*
 * The moved events up to mark must be confirmed before their files'
 * messages are acknowledged. When one is not (nacked, the connection
 * lost), the n finished deliveries go back to the queue instead: their
 * redeliveries find the files moved, and publish the events again. A
 * failure that stays (an unroutable event, a missing exchange, a refused
 * publish) is a setup to fix: the run stops (exit 78 or 77), saying so
 * once, at the end.
 */
static enum mq_status settle_events(struct consumer *c, unsigned n, uint64_t mark)
{
    char why[512];
    enum mq_status s = events_settle(c->o->events, mark, consume_tick, c, why, sizeof why);
    if (s == MQ_OK && c->events_failed) { /* cannot be: events_settle reports it */
        snprintf(why, sizeof why, "an event was not published");
        s = MQ_ERR_CLOSED;
    }
    c->events_failed = 0;
    c->st->events = events_published(c->o->events);
    if (s == MQ_OK)
        return MQ_OK;
    if (mq_transient(s) || s == MQ_ERR_PROTOCOL) {
        log_error("the moved events of the last %u files were not confirmed: %s; requeueing them",
                  n, why);
    } else if (!c->local_stop) {
        snprintf(c->stop_why, sizeof c->stop_why, "%s", why);
        c->st->local_exit = mq_exitcode(s);
        c->local_stop = 1;
    }
    return s;
}

/* Give every finished delivery not acknowledged back to the queue (what a
 * failure of their fsyncs or events calls for). */
static enum mq_status requeue_all(struct consumer *c, char *err, size_t errlen)
{
    uint64_t tag = c->ack_pending > 0 ? c->ack_tag : c->wait_tag;
    c->ack_pending = c->wait_pending = 0;
    events_forget(c->o->events);
    char why[256];
    enum mq_status s = mq_requeue(c->mq, tag, 1, why, sizeof why);
    if (s != MQ_OK)
        snprintf(err, errlen, "%s", why);
    return s;
}

/* The open group's moves made durable (--fsync): 0, or -1 said. */
static int make_durable(struct consumer *c, unsigned n)
{
    if (!c->o->fsync || durable_group_flush(&c->sync) == 0)
        return 0;
    log_error("cannot make the last %u moves durable: %s; requeueing them to check again", n,
              strerror(errno));
    return -1;
}

/* Acknowledge the finished deliveries, after making their moves durable
 * under --fsync and their events confirmed. If that fails, give them back
 * to the queue instead: their redeliveries find the files moved and try
 * again. */
enum mq_status acks_flush(struct consumer *c, char *err, size_t errlen)
{
    unsigned n = acks_pending(c);
    if (n == 0)
        return MQ_OK;
    if (make_durable(c, n) < 0 ||
        (c->o->events != NULL && settle_events(c, n, EVENTS_ALL) != MQ_OK))
        return requeue_all(c, err, errlen);
    uint64_t tag = c->ack_pending > 0 ? c->ack_tag : c->wait_tag;
    c->ack_pending = c->wait_pending = 0;
    return mq_ack(c->mq, tag, 1, err, errlen);
}

/*
 * With moved events, a full group is not acknowledged at once: the wait
 * for its events' confirms would stall the moves. It is made durable
 * (--fsync), its events are sent, and it waits while the next group is
 * moved; then the group before it is acknowledged, its events confirmed
 * by now or soon. Idle, acks_flush acknowledges both.
 */
static enum mq_status next_group(struct consumer *c, char *err, size_t errlen)
{
    char why[512];
    if (c->wait_pending > 0) {
        if (settle_events(c, acks_pending(c), c->wait_mark) != MQ_OK)
            return requeue_all(c, err, errlen);
        c->wait_pending = 0;
        enum mq_status s = mq_ack(c->mq, c->wait_tag, 1, err, errlen);
        if (s != MQ_OK)
            return s;
    }
    if (make_durable(c, c->ack_pending) < 0)
        return requeue_all(c, err, errlen);
    if (events_send(c->o->events, &c->wait_mark, why, sizeof why) != MQ_OK) {
        settle_events(c, c->ack_pending, EVENTS_ALL); /* says the failure */
        return requeue_all(c, err, errlen);
    }
    c->wait_tag = c->ack_tag;
    c->wait_pending = c->ack_pending;
    c->ack_pending = 0;
    return MQ_OK;
}

/* A delivery is done: acknowledge it with its group. */
enum mq_status acks_done(struct consumer *c, uint64_t tag, char *err, size_t errlen)
{
    c->ack_tag = tag;
    if (++c->ack_pending < c->ack_batch)
        return MQ_OK;
    return c->o->events != NULL ? next_group(c, err, errlen) : acks_flush(c, err, errlen);
}
