/* publish.c - confirm window and reconnection for scan; see publish.h. */
#include "publish.h"

#include "backoff.h"
#include "clock.h"
#include "log.h"
#include "mq_reconnect.h"
#include "msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pending {
    uint64_t seq; /* delivery tag on the current connection */
    void *cookie;
    char *body;
    size_t len;
    uint64_t timestamp;
    char id[MSG_ID_LEN + 1];
    int returned; /* the broker returned it as unroutable */
    int settled;  /* confirmed or refused, out of order */
    int nacked;
    /* Nacked and published again (see retry_later): */
    int nacks;              /* nacks so far */
    int waiting;            /* to be published again at retry_at; seq is 0 meanwhile */
    int resent;             /* seq is from a retry: out of publish order in the ring */
    double retry_at;        /* mono_now() time */
    double deadline;        /* the first nack + --reconnect-timeout */
    struct backoff backoff; /* waits between retries */
};

/* A nacked message is published at most this many times in all, with
 * backoff.h's waits scaled by PUBLISH_RETRY_SCALE between tries (0.25 s
 * doubling to 1.25 s, about 3 s for all), within --reconnect-timeout of
 * its first nack: long enough for a quorum queue to elect a new leader,
 * short enough not to hold a full window long when a queue is full. */
#define PUBLISH_ATTEMPTS 5
#define PUBLISH_RETRY_SCALE 0.25

struct publisher {
    struct publish_opts o; /* without cfg and conn_name: copied below */
    struct cfg cfg;
    char *conn_name; /* NULL when none was given */
    struct mq *mq;
    struct pending *ring;
    size_t cap, head, count;       /* ring of count entries from head, in publish order */
    int dead;                      /* lost for good: send nothing more */
    int corked;                    /* in a burst, writes held back (mq_cork) */
    struct mq_reconnect reconnect; /* after a lost connection */
    struct mq_queue_info info;     /* the queue's counts at the last declare */
    size_t waiting;                /* entries waiting to be published again */
    size_t resent;                 /* entries whose seq came from a retry */
};

static struct pending *at(struct publisher *p, size_t i)
{
    return &p->ring[(p->head + i) % p->cap];
}

static enum mq_status connect_all(struct publisher *p, char *err, size_t errlen)
{
    enum mq_status s = mq_connect(&p->cfg, p->conn_name, &p->mq, err, errlen);
    if (s != MQ_OK)
        return s;
    if ((s = mq_declare_topology(p->mq, &p->cfg, &p->info, err, errlen)) != MQ_OK ||
        (s = mq_confirm_select(p->mq, err, errlen)) != MQ_OK) {
        mq_close(p->mq);
        p->mq = NULL;
    }
    return s;
}

/* One reconnection attempt (mq_reconnect's connect): connect, and publish
 * everything unconfirmed again, in order, with new tags. */
static enum mq_status reconnect_once(void *arg, char *err, size_t errlen)
{
    struct publisher *p = arg;
    enum mq_status s = connect_all(p, err, errlen);
    if (s != MQ_OK)
        return s;
    /* In ring order: the tags are in publish order again, and a message
     * waiting for its retry goes now. */
    p->waiting = p->resent = 0;
    for (size_t i = 0; i < p->count; i++) {
        struct pending *e = at(p, i);
        e->returned = e->waiting = e->resent = 0;
        if (mq_publish(p->mq, p->cfg.exchange, p->cfg.routing_key, e->body, e->len, e->id,
                       MSG_AMQP_TYPE, e->timestamp, &e->seq, err, errlen) != MQ_OK) {
            mq_close(p->mq);
            p->mq = NULL;
            return MQ_ERR_CLOSED; /* try again while time is left */
        }
    }
    return MQ_OK;
}

static void say_reconnecting(void *arg, const char *why, double wait_s)
{
    const struct publisher *p = arg;
    (void)wait_s;
    if (p->o.tick != NULL) /* the metrics go on while the broker is away */
        p->o.tick(p->o.arg);
    log_warn("%s; reconnecting", why);
}

/* During the waits for the broker: the caller's tick (signals, status). */
static void reconnect_tick(void *arg)
{
    struct publisher *p = arg;
    if (p->o.tick != NULL)
        p->o.tick(p->o.arg);
}

enum mq_status publish_open(const struct publish_opts *o, struct publisher **out, char *err,
                            size_t errlen)
{
    struct publisher *p = calloc(1, sizeof *p);
    *out = NULL;
    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return MQ_ERR_PROTOCOL;
    }
    p->o = *o;
    p->o.cfg = NULL;
    p->o.conn_name = NULL;
    p->cfg = *o->cfg;
    p->cap = o->window ? o->window : 1;
    p->ring = calloc(p->cap, sizeof *p->ring);
    if (o->conn_name != NULL)
        p->conn_name = strdup(o->conn_name);
    if (p->ring == NULL || (o->conn_name != NULL && p->conn_name == NULL)) {
        free(p->conn_name);
        free(p->ring);
        free(p);
        snprintf(err, errlen, "out of memory");
        return MQ_ERR_PROTOCOL;
    }
    mq_reconnect_init(&p->reconnect);
    p->reconnect.timeout_ms = o->reconnect_timeout_ms;
    p->reconnect.connect = reconnect_once;
    p->reconnect.waiting = say_reconnecting;
    p->reconnect.tick = reconnect_tick;
    p->reconnect.arg = p;
    p->reconnect.at_once = o->cfg->n_urls > 1; /* another node may answer now */
    enum mq_status s = connect_all(p, err, errlen);
    if (s != MQ_OK) {
        publish_close(p);
        return s;
    }
    *out = p;
    return MQ_OK;
}

/* Retire settled entries from the head of the window, in order. */
static void retire(struct publisher *p)
{
    while (p->count > 0 && at(p, 0)->settled) {
        struct pending *e = at(p, 0);
        enum scan_reason reason = e->nacked     ? SCAN_REASON_NACKED
                                  : e->returned ? SCAN_REASON_UNROUTABLE
                                                : SCAN_REASON_NONE;
        p->o.done(p->o.arg, e->cookie, reason == SCAN_REASON_NONE, reason);
        p->resent -= e->resent;
        free(e->body);
        e->body = NULL;
        p->head = (p->head + 1) % p->cap;
        p->count--;
    }
}

/* A nack for e: 1 when it is to be published again (after a wait, within
 * the deadline, PUBLISH_ATTEMPTS in all), 0 when the nack is final. A
 * message the broker returned stays unroutable; a --reconnect-timeout of 0
 * makes every nack final. */
static int retry_later(struct publisher *p, struct pending *e)
{
    double now = mono_now();
    if (e->nacks++ == 0) {
        e->deadline = now + (double)p->o.reconnect_timeout_ms / 1000.0;
        backoff_init(&e->backoff, backoff_seed());
    }
    if (e->returned || p->o.reconnect_timeout_ms == 0 || e->nacks >= PUBLISH_ATTEMPTS ||
        now >= e->deadline)
        return 0;
    double wait = PUBLISH_RETRY_SCALE * backoff_next(&e->backoff, -1);
    if (wait > e->deadline - now)
        wait = e->deadline - now;
    e->retry_at = now + wait;
    e->waiting = 1;
    e->seq = 0; /* no tag until published again */
    p->waiting++;
    log_info("the broker refused message %s (nack); publishing it again in %.2f s (attempt %d "
             "of %d)",
             e->id, wait, e->nacks + 1, PUBLISH_ATTEMPTS);
    return 1;
}

/* Apply one broker event to the window. */
static void apply(struct publisher *p, const struct mq_event *ev)
{
    if (ev->kind == MQ_EVENT_RETURN) {
        for (size_t i = 0; i < p->count; i++)
            if (strcmp(at(p, i)->id, ev->message_id) == 0 && !at(p, i)->settled) {
                at(p, i)->returned = 1;
                break;
            }
        return;
    }
    if (ev->kind != MQ_EVENT_ACK && ev->kind != MQ_EVENT_NACK)
        return;
    for (size_t i = 0; i < p->count; i++) {
        struct pending *e = at(p, i);
        /* Tags are increasing in ring order, but for those of retries. */
        if (e->seq > ev->tag && p->resent == 0)
            break;
        if (e->seq == 0 || e->seq > ev->tag || (e->seq != ev->tag && !ev->multiple) || e->settled)
            continue;
        if (ev->kind == MQ_EVENT_NACK && retry_later(p, e))
            continue;
        e->nacked = ev->kind == MQ_EVENT_NACK;
        e->settled = 1;
    }
    retire(p);
}

/* 1 when retries are to be published now or later: some wait, and the
 * broker does not block publishing (then they wait for it, as new ones). */
static int retries_open(struct publisher *p)
{
    return p->waiting > 0 && p->mq != NULL && !mq_blocked(p->mq, NULL);
}

/* Publish again the nacked messages whose wait is over, with new tags (the
 * nack was final when the deadline had passed: see retry_later). Returns
 * MQ_OK, or MQ_ERR_CLOSED when the connection is gone. */
static enum mq_status resend_due(struct publisher *p, char *err, size_t errlen)
{
    if (!retries_open(p))
        return MQ_OK;
    double now = mono_now();
    for (size_t i = 0; i < p->count && p->waiting > 0; i++) {
        struct pending *e = at(p, i);
        if (!e->waiting || e->retry_at > now)
            continue;
        e->waiting = 0;
        p->waiting--;
        p->resent += !e->resent;
        e->resent = 1;
        e->returned = 0;
        enum mq_status s = mq_publish(p->mq, p->cfg.exchange, p->cfg.routing_key, e->body, e->len,
                                      e->id, MSG_AMQP_TYPE, e->timestamp, &e->seq, err, errlen);
        if (s != MQ_OK)
            return s;
    }
    return MQ_OK;
}

/* timeout_ms, or less when a retry is due sooner. */
static int until_retry(struct publisher *p, int timeout_ms)
{
    if (!retries_open(p))
        return timeout_ms;
    double now = mono_now();
    for (size_t i = 0; i < p->count && p->waiting > 0 && timeout_ms > 0; i++) {
        struct pending *e = at(p, i);
        if (e->waiting && (e->retry_at - now) * 1000.0 < timeout_ms)
            timeout_ms = e->retry_at > now ? (int)((e->retry_at - now) * 1000.0) + 1 : 0;
    }
    return timeout_ms;
}

/* Give up: every message in the window is reported unconfirmed. */
static void abandon(struct publisher *p)
{
    while (p->count > 0) {
        struct pending *e = at(p, 0);
        p->o.done(p->o.arg, e->cookie, 0, SCAN_REASON_UNCONFIRMED);
        free(e->body);
        e->body = NULL;
        p->head = (p->head + 1) % p->cap;
        p->count--;
    }
    p->waiting = p->resent = 0;
    p->dead = 1;
}

/* The connection is gone: reconnect within the timeout (mq_reconnect) and
 * publish the whole window again, or give up. */
static enum mq_status recover(struct publisher *p, char *err, size_t errlen)
{
    mq_close(p->mq);
    p->mq = NULL;
    enum mq_status s = MQ_ERR_CLOSED; /* a timeout of 0: the loss is final */
    if (p->o.reconnect_timeout_ms > 0)
        s = mq_reconnect(&p->reconnect, err, errlen);
    if (s == MQ_OK) {
        if (p->o.reconnects != NULL)
            (*p->o.reconnects)++;
        log_event(LOG_SEV_WARNING, &(struct log_fields){.event = "reconnected"},
                  "reconnected to %s; published %zu unconfirmed messages again",
                  mq_display_url(p->mq), p->count);
        return MQ_OK;
    }
    abandon(p);
    return mq_transient(s) ? MQ_ERR_CLOSED : s;
}

/* Wait up to timeout_ms for events and apply them all; handle loss and
 * blocking. */
static enum mq_status pump(struct publisher *p, int timeout_ms, char *err, size_t errlen)
{
    /* Never wait for confirms of messages still held back in the socket. */
    if (timeout_ms > 0 && p->corked && p->mq != NULL) {
        mq_cork(p->mq, 0);
        p->corked = 0;
    }
    for (;;) {
        struct mq_event ev;
        enum mq_status s = mq_next_event(p->mq, until_retry(p, timeout_ms), &ev, err, errlen);
        if (s == MQ_OK && ev.kind != MQ_EVENT_NONE) {
            apply(p, &ev);
            timeout_ms = 0; /* drain what is there, then return */
            continue;
        }
        if (s == MQ_OK)
            s = resend_due(p, err, errlen);
        if (s == MQ_ERR_CLOSED) {
            s = recover(p, err, errlen);
            if (s != MQ_OK)
                return s;
            continue;
        }
        if (s != MQ_OK) {
            abandon(p);
            return s;
        }
        return MQ_OK;
    }
}

/* While the broker blocks publishing, wait for it to unblock us. */
static enum mq_status wait_unblocked(struct publisher *p, char *err, size_t errlen)
{
    const char *why;
    if (!mq_blocked(p->mq, &why))
        return MQ_OK;
    double deadline = mono_now() + (double)p->o.blocked_timeout_ms / 1000.0;
    log_warn("broker blocked publishing: %s; waiting up to %.0f s", why,
             (double)p->o.blocked_timeout_ms / 1000.0);
    while (mq_blocked(p->mq, &why)) {
        if (p->o.stop != NULL && *p->o.stop > 0) {
            snprintf(err, errlen, "stopped while the broker blocked publishing: %s", why);
            abandon(p);
            return MQ_ERR_BLOCKED;
        }
        if (mono_now() >= deadline) {
            snprintf(err, errlen, "broker blocked publishing for longer than %.0f s: %s",
                     (double)p->o.blocked_timeout_ms / 1000.0, why);
            abandon(p);
            return MQ_ERR_BLOCKED;
        }
        enum mq_status s = pump(p, 500, err, errlen);
        if (s != MQ_OK)
            return s;
        if (p->o.tick != NULL)
            p->o.tick(p->o.arg);
        if (p->mq == NULL)
            break;
    }
    log_warn("broker unblocked publishing");
    return MQ_OK;
}

enum mq_status publish_send(struct publisher *p, const void *body, size_t len, const char *id,
                            uint64_t timestamp, void *cookie, char *err, size_t errlen)
{
    enum mq_status s;
    if (p->dead) {
        p->o.done(p->o.arg, cookie, 0, SCAN_REASON_UNCONFIRMED);
        snprintf(err, errlen, "the broker connection was lost");
        return MQ_ERR_CLOSED;
    }
    /* Room in the window; confirms are read every so often even when
     * there is room, so that they flow back while we publish. */
    while (p->count == p->cap || (p->count & 63) == 63) {
        /* 500 ms: the tick below serves SIGHUP and SIGUSR1 that often */
        if ((s = pump(p, p->count == p->cap ? 500 : 0, err, errlen)) != MQ_OK)
            goto lost;
        if (p->count < p->cap)
            break;
        if (p->o.tick != NULL)
            p->o.tick(p->o.arg);
    }
    if ((s = wait_unblocked(p, err, errlen)) != MQ_OK)
        goto lost;

    struct pending *e = at(p, p->count);
    memset(e, 0, sizeof *e);
    e->body = malloc(len);
    if (e->body == NULL) {
        snprintf(err, errlen, "out of memory");
        abandon(p);
        p->o.done(p->o.arg, cookie, 0, SCAN_REASON_UNCONFIRMED);
        return MQ_ERR_PROTOCOL;
    }
    memcpy(e->body, body, len);
    e->len = len;
    e->cookie = cookie;
    e->timestamp = timestamp;
    snprintf(e->id, sizeof e->id, "%s", id);
    p->count++;
    s = mq_publish(p->mq, p->cfg.exchange, p->cfg.routing_key, body, len, id, MSG_AMQP_TYPE,
                   timestamp, &e->seq, err, errlen);
    if (s == MQ_ERR_CLOSED)
        s = recover(p, err, errlen); /* republishes this one too */
    return s;
lost:
    p->o.done(p->o.arg, cookie, 0, SCAN_REASON_UNCONFIRMED);
    return s;
}

void publish_burst(struct publisher *p, int on)
{
    if (p->mq != NULL && !p->dead && (on || p->corked))
        mq_cork(p->mq, on);
    p->corked = on && p->mq != NULL && !p->dead;
}

enum mq_status publish_flush(struct publisher *p, char *err, size_t errlen)
{
    while (p->count > 0) {
        enum mq_status s = pump(p, 500, err, errlen); /* ticks as often */
        if (s != MQ_OK)
            return s;
        /* Blocked with confirms outstanding: they will not come until the
         * broker unblocks, so wait for that as publish_send does. */
        if (p->mq != NULL && (s = wait_unblocked(p, err, errlen)) != MQ_OK)
            return s;
        if (p->o.tick != NULL)
            p->o.tick(p->o.arg);
    }
    return MQ_OK;
}

enum mq_status publish_poll(struct publisher *p, char *err, size_t errlen)
{
    if (p->dead) {
        snprintf(err, errlen, "the broker connection was lost");
        return MQ_ERR_CLOSED;
    }
    return pump(p, 0, err, errlen);
}

enum mq_status publish_queue_info(struct publisher *p, int refresh, struct mq_queue_info *info,
                                  char *err, size_t errlen)
{
    enum mq_status s = MQ_OK;
    if (refresh && (p->dead || p->mq == NULL)) {
        snprintf(err, errlen, "no connection to the broker");
        return MQ_ERR_CLOSED;
    }
    /* Declaring again is idempotent and answers with fresh counts. */
    if (refresh)
        s = mq_declare_topology(p->mq, &p->cfg, &p->info, err, errlen);
    *info = p->info;
    return s;
}

size_t publish_unconfirmed(const struct publisher *p)
{
    return p->count;
}

const struct mq *publish_mq(const struct publisher *p)
{
    return p->mq;
}

void publish_close(struct publisher *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->count; i++)
        free(at(p, i)->body);
    mq_close(p->mq);
    free(p->conn_name);
    free(p->ring);
    free(p);
}
