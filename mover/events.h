/*
 * events.h - move --publish-moved EXCHANGE[/ROUTING-KEY]: one persistent
 * "moved" event per file moved (or found moved: a redelivery), published
 * on a connection of its own in confirm mode. The consumer acknowledges a
 * file's message only after events_settle has seen every event published
 * so far confirmed: at least once, with the file's message id, so that
 * consumers deduplicate by it. The event format is in
 * docs/message-format.md.
 */
#ifndef SCANMOVE_MOVER_EVENTS_H
#define SCANMOVE_MOVER_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "mq.h"
#include "msg.h"

struct events;

/*
 * events_new - parse spec ("EXCHANGE" or "EXCHANGE/ROUTING-KEY"; the key
 * defaults to the queue's name plus ".moved") for the mover of cfg.
 * Returns the events (events_free), or NULL with a sentence in err (the
 * caller exits 64).
 */
struct events *events_new(const char *spec, const struct cfg *cfg, char *err, size_t errlen);

/*
 * events_connect - open the events connection (confirm mode) when it is
 * not open, and check that the exchange exists: MQ_ERR_MISSING with a
 * sentence when it does not (the caller exits 78). Called when the
 * consumer (re)connects.
 */
enum mq_status events_connect(struct events *ev, const char *conn_name, char *err, size_t errlen);

/*
 * events_publish - publish the event of m, now at dest_path (absolute,
 * bytes), moved (duplicate 0) or found moved (1), with the hash the mover
 * computed ("" none: then m's, if any). Does not wait for the confirm.
 * Returns MQ_OK, or the failure (the connection is then closed; the
 * caller requeues what it has not acknowledged).
 */
enum mq_status events_publish(struct events *ev, const struct msg *m, const char *dest_path,
                              size_t dest_len, int duplicate, const char *hash, char *err,
                              size_t errlen);

/*
 * events_settle - wait until every event published so far is confirmed.
 * MQ_OK then; MQ_ERR_PROTOCOL when one was nacked, MQ_ERR_CONFIG when one
 * was returned as unroutable (no queue bound: a setup to fix, the caller
 * stops with 78), or the connection's failure. After a failure the
 * connection is closed and the count of outstanding events reset.
 */
enum mq_status events_settle(struct events *ev, char *err, size_t errlen);

/* events_keepalive - service the idle connection's heartbeats (at most
 * once a second). */
void events_keepalive(struct events *ev);

/* events_published - the events confirmed so far. */
uint64_t events_published(const struct events *ev);

/* events_free - close the connection and free ev (NULL is a no-op). */
void events_free(struct events *ev);

#endif
