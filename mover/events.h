/*
 * events.h - move --publish-moved EXCHANGE[/ROUTING-KEY]: one persistent
 * "moved" event per file moved (or found moved: a redelivery), published
 * on a connection of its own in confirm mode. The consumer acknowledges a
 * file's message only after events_settle has seen its event (and every
 * one before it) confirmed: at least once, with the file's message id, so
 * that consumers deduplicate by it. The event format is in
 * docs/message-format.md.
 */
#ifndef SCANMOVE_MOVER_EVENTS_H
#define SCANMOVE_MOVER_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "mq.h"
#include "msg.h"

/* The AMQP "type" property of an event; it changes with the event's "v". */
#define EVENTS_AMQP_TYPE "scanmove.moved.v1"

struct events;

/*
 * events_new - parse spec ("EXCHANGE" or "EXCHANGE/ROUTING-KEY"; the key
 * defaults to the queue's name plus ".moved") for the mover of cfg (kept:
 * it must outlive the events). An empty exchange or key, one over
 * CFG_NAME_MAX bytes, or cfg's own exchange and routing key (the events
 * would come back as files to move) are refused. Returns the events
 * (events_free), or NULL with a sentence in err (the caller exits 64).
 */
struct events *events_new(const char *spec, const struct cfg *cfg, char *err, size_t errlen);

/*
 * events_defer - with on = 1, hold each event events_publish makes until
 * the next events_send or events_settle(EVENTS_ALL), which publish them
 * in order and corked (fewer TCP segments for the broker); the mover
 * calls those once a group's moves are durable (--fsync), so that no
 * event announces a move that a power failure could undo.
 * on = 0 (the default): publish at once. NULL is a no-op.
 */
void events_defer(struct events *ev, int on);

/* events_forget - drop the events held back (events_defer), unpublished:
 * their files' messages go back to the queue. NULL is a no-op. */
void events_forget(struct events *ev);

/*
 * events_connect - open the events connection afresh (confirm mode),
 * named conn_name (kept for the connections events_publish opens later),
 * and check that the exchange exists: MQ_ERR_MISSING with a sentence
 * naming it when it does not (the caller exits 78). Called when the
 * consumer (re)connects: a connection still open is closed first, and
 * what it had not confirmed, or held back, is forgotten (the deliveries of
 * those events went back to the queue with the consumer's connection).
 */
enum mq_status events_connect(struct events *ev, const char *conn_name, char *err, size_t errlen);

/*
 * events_publish - publish the event of m, now at dest_path (absolute,
 * bytes), moved (duplicate 0) or found moved (1), with the hash the mover
 * computed ("" none: then m's, if any): persistent, mandatory, message_id
 * m->id, type EVENTS_AMQP_TYPE. Opens the connection first when it is
 * closed. Does not wait for the confirm; under events_defer, only writes
 * the event, for events_settle to publish. Returns MQ_OK, or the failure
 * (the connection is then closed, and events_settle reports the failure
 * too; until then events_publish refuses with it; the caller requeues
 * what it has not acknowledged).
 */
enum mq_status events_publish(struct events *ev, const struct msg *m, const char *dest_path,
                              size_t dest_len, int duplicate, const char *hash, char *err,
                              size_t errlen);

/* A mark that stands for every event (events_settle). */
#define EVENTS_ALL UINT64_MAX

/*
 * events_send - publish the events held back (events_defer), without
 * waiting for their confirms, and put in *mark the mark of every event
 * published so far, for events_settle. Returns MQ_OK, or the failure (as
 * events_publish).
 */
enum mq_status events_send(struct events *ev, uint64_t *mark, char *err, size_t errlen);

/*
 * events_settle - wait until every event up to mark (events_send) is
 * confirmed; with mark EVENTS_ALL, publish the events held back first and
 * wait for every event published. Calls tick(arg) (NULL: none) about once
 * a second while waiting, so that the caller's other connections stay
 * alive. MQ_OK then; MQ_ERR_PROTOCOL when one was nacked (or the broker
 * closed the channel), MQ_ERR_CONFIG when one was returned as unroutable
 * ("moved events to exchange 'X' with key 'K' reach no queue: bind a queue
 * to it": a setup to fix, the caller stops with 78), MQ_ERR_ACCESS when
 * the broker refused the publish, MQ_ERR_CLOSED when the connection was
 * lost, or the failure events_publish, events_send or events_keepalive
 * met since the last settle. After a failure the connection is closed and
 * every event not confirmed, or held back, is forgotten (later ones too:
 * the caller gives back every delivery it has not acknowledged); the next
 * events_publish opens a new connection.
 */
enum mq_status events_settle(struct events *ev, uint64_t mark, void (*tick)(void *), void *arg,
                             char *err, size_t errlen);

/* events_keepalive - service the connection between publishes, at most
 * once a second: send a heartbeat when due and read what the broker sent
 * (confirms are noted; a failure is kept for events_settle). A connection
 * found lost with nothing outstanding is closed quietly; the next
 * events_publish opens another. */
void events_keepalive(struct events *ev);

/* events_published - the events confirmed so far. */
uint64_t events_published(const struct events *ev);

/* events_free - close the connection and free ev (NULL is a no-op). */
void events_free(struct events *ev);

#endif
