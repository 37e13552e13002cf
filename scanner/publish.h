/*
 * publish.h - scan's publisher: a sliding window of unconfirmed messages
 * over one broker connection, with reconnection.
 *
 * A message counts as published only when the broker confirms it. Each
 * message stays in the window (with a copy of its body) until then, so
 * that after a lost connection everything unconfirmed can be published
 * again on a new one: duplicates are possible (the mover recognises them
 * by id), losses are not. A message the broker nacks is published again,
 * a few times with short waits (as RabbitMQ may nack while a quorum queue
 * elects a leader), before the nack counts. Used from one thread.
 */
#ifndef SCANMOVE_PUBLISH_H
#define SCANMOVE_PUBLISH_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#include "cfg.h"
#include "mq.h"
#include "reason.h"

struct publisher;

/*
 * publish_done_fn - the final word on one message: ok is 1 (reason
 * SCAN_REASON_NONE) when the broker confirmed it, else reason is
 * SCAN_REASON_NACKED (nacked at each of its attempts: see
 * reconnect_timeout_ms), SCAN_REASON_UNROUTABLE or SCAN_REASON_UNCONFIRMED.
 * cookie is what publish_send was given. Called once per message, in
 * publish order.
 */
typedef void (*publish_done_fn)(void *arg, void *cookie, int ok, enum scan_reason reason);

struct publish_opts {
    const struct cfg *cfg; /* copied: needed only during publish_open */
    const char *conn_name; /* copied, for reconnections; may be NULL */
    unsigned window;       /* most unconfirmed messages at once */
    /* How long to reconnect after a lost connection, and to publish a
     * nacked message again (5 attempts in all, from its first nack); 0:
     * a lost connection and a nack are final. */
    uint64_t reconnect_timeout_ms;
    uint64_t blocked_timeout_ms; /* longest wait while the broker blocks us */
    publish_done_fn done;
    void *arg;
    void (*tick)(void *arg); /* called while waiting, e.g. to redraw progress; may be NULL */
    volatile sig_atomic_t
        *stop;            /* set by a signal: stop waiting for a blocked broker; may be NULL */
    uint64_t *reconnects; /* counts each connection made again after a loss; may be NULL */
};

/*
 * publish_open - connect, declare the topology, turn on confirms. On MQ_OK
 * *out is ready; else err holds the sentence.
 */
enum mq_status publish_open(const struct publish_opts *o, struct publisher **out, char *err,
                            size_t errlen);

/*
 * publish_send - publish one message (body copied; id is its message id;
 * cookie is handed back through done, which may run for earlier messages
 * during this call). Waits while the window is full or the broker blocks
 * publishing. Returns MQ_OK; or MQ_ERR_CLOSED when the broker was lost
 * and not regained in time, MQ_ERR_BLOCKED when blocked too long, the
 * failure that retrying cannot mend when reconnecting met one (e.g.
 * MQ_ERR_TLS, MQ_ERR_AUTH: no more attempts then), with why in err: then
 * every message still unconfirmed (this one included) has been reported
 * SCAN_REASON_UNCONFIRMED, and nothing more can be sent.
 */
enum mq_status publish_send(struct publisher *p, const void *body, size_t len, const char *id,
                            uint64_t timestamp, void *cookie, char *err, size_t errlen);

/*
 * publish_burst - 1 before a run of publish_send calls, 0 after it: the
 * messages in between leave in as few TCP segments as possible (the
 * publisher sends what it holds before it waits for the broker).
 */
void publish_burst(struct publisher *p, int on);

/*
 * publish_flush - wait until every message sent is confirmed or refused.
 * Returns as publish_send.
 */
enum mq_status publish_flush(struct publisher *p, char *err, size_t errlen);

/*
 * publish_poll - read what the broker has sent without waiting (confirms,
 * heartbeats, blocked notices). Call it while idle for long. Returns as
 * publish_send.
 */
enum mq_status publish_poll(struct publisher *p, char *err, size_t errlen);

/*
 * publish_queue_info - the queue's counts (ready messages, consumers, dead
 * letters) as the broker gave them when the publisher declared the
 * topology; with refresh, declared again now (with no publish waiting for
 * its confirm that matters: call it after publish_flush). Returns MQ_OK,
 * or the failure with its sentence (info then holds the last counts).
 */
enum mq_status publish_queue_info(struct publisher *p, int refresh, struct mq_queue_info *info,
                                  char *err, size_t errlen);

/* publish_unconfirmed - how many messages are still waiting for their confirm. */
size_t publish_unconfirmed(const struct publisher *p);

/* publish_close - close the connection and free p (NULL is a no-op). */
void publish_close(struct publisher *p);

/* publish_mq - the publisher's connection (NULL while it has none), to say which broker it reached.
 */
const struct mq *publish_mq(const struct publisher *p);

#endif
