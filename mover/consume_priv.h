/*
 * consume_priv.h - the state of the mover's delivery loop, shared by
 * consume.c (the loop, connections), acks.c (acknowledgements) and
 * deadletter.c (dead letters and what the log says of a file). Not for
 * other modules.
 */
#ifndef SCANMOVE_CONSUME_PRIV_H
#define SCANMOVE_CONSUME_PRIV_H

#include "consume.h"
#include "log.h"
#include "mq_reconnect.h"

#include <pthread.h>

struct consumer {
    const struct consume_opts *o;
    struct consume_stats *st;
    struct mq *mq;   /* consuming connection */
    struct mq *dead; /* dead-letter publishing connection, in confirm mode */
    char dlx[CFG_NAME_MAX + 1];
    /* Finished deliveries not yet acknowledged: up to ack_tag, ack_pending
     * of them, acknowledged together (with "multiple") once ack_batch are
     * done or no delivery is waiting; under --fsync their directories are
     * flushed first (group commit). */
    uint64_t ack_tag;
    unsigned ack_pending, ack_batch;
    /* With moved events, the full group before (up to wait_tag,
     * wait_pending of them), durable and its events sent (up to
     * wait_mark), waiting for their confirms while the next is moved
     * (acks.c). */
    uint64_t wait_tag, wait_mark;
    unsigned wait_pending;
    struct durable_group sync;
    char host[256];                /* this host's name, as scan writes it into messages */
    int dest_fd;                   /* DEST: o->dest_fd, or DEST opened again after it was deleted */
    int local_stop;                /* a local failure ends the run (st->local_exit) */
    struct mq_reconnect reconnect; /* after a lost connection */
    int first;                     /* reconnecting at start: "trying again" */
    int told_waiting;              /* the first wait of this outage was said, even under -q */
    int connected;                 /* connected once: the first connection was said */
    double dead_serviced;          /* when keep_dead_alive last read c->dead */
    double queue_asked;            /* when st->queue was last asked for */
    char *buf;                     /* fileop's scratch buffer, allocated by the first move */
    pthread_t main_thread;         /* the one running consume_run */
    /* the roots of messages this mover does not serve, each said once */
    char *foreign[CONSUME_FOREIGN_MAX];
    unsigned n_foreign;
    /* An event was not published: requeue the group, do not ack it. */
    int events_failed;
    char stop_why[1024]; /* why the moved events stopped the run (local_stop) */
};

/* consume_tick - keep the connections alive (heartbeats) and call the
 * progress hook (from the main thread only), during a long wait. */
void consume_tick(void *arg);

/* acks_pending - the finished deliveries not yet acknowledged. */
unsigned acks_pending(const struct consumer *c);

/* acks_flush - acknowledge every finished delivery, once their moves are
 * durable (--fsync) and their moved events confirmed; give them back to
 * the queue when that fails. The broker's status of the ack or requeue. */
enum mq_status acks_flush(struct consumer *c, char *err, size_t errlen);

/* acks_done - delivery tag is done (moved, skipped): acknowledge it with
 * its group (acks_flush, or with moved events, once the next group is
 * full). */
enum mq_status acks_done(struct consumer *c, uint64_t tag, char *err, size_t errlen);

/* deadletter_connect - open the dead-letter publishing connection c->dead,
 * in confirm mode. */
enum mq_status deadletter_connect(struct consumer *c, char *err, size_t errlen);

/* deadletter_failed - say in err, which holds the broker's sentence, that
 * publishing to the dead-letter exchange failed (was refused, for
 * MQ_ERR_ACCESS). */
void deadletter_failed(const struct consumer *c, enum mq_status s, char *err, size_t errlen);

/* deadletter_send - publish the delivery to the dead-letter exchange with
 * its reason (under confirms), say so, count it, then ack it. m is the
 * decoded message, NULL when it could not be. */
enum mq_status deadletter_send(struct consumer *c, const struct mq_delivery *d, const struct msg *m,
                               enum move_reason reason, const char *why, char *err, size_t errlen);

/* deadletter_foreign_root - tell the operator, once per root, that the
 * queue holds files of a root this mover does not serve. */
void deadletter_foreign_root(struct consumer *c, const struct msg *m);

/* consume_file_fields - the JSON fields of a log line about the file m
 * names (NULL: none); reason NULL when none. Main thread only: the fields
 * are static. */
const struct log_fields *consume_file_fields(const char *event, const struct msg *m,
                                             const char *reason);

#endif
