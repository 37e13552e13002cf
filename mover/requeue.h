/*
 * requeue.h - move --requeue-dead: put the dead letters of <queue>.dead
 * back on the queue, for a batch to finish once what failed it (a full
 * disk, a permission) is fixed.
 */
#ifndef SCANMOVE_REQUEUE_H
#define SCANMOVE_REQUEUE_H

#include <signal.h>
#include <stdint.h>

#include "cfg.h"
#include "mq.h"

/*
 * requeue_dead - take each message of c->queue + ".dead" (at most limit; 0:
 * all there are) and publish its body, with its message id, to
 * c->exchange with c->routing_key, persistent and mandatory; only once the
 * broker has confirmed the copy is the dead letter acknowledged, so a
 * crash may leave a message in both queues (the mover then handles the
 * second as a duplicate), never in neither. Stops early when *stop is set.
 * *done receives how many were requeued. Returns MQ_OK, or the failure
 * with its sentence (an unroutable or refused copy leaves its dead letter
 * in place and ends the run).
 */
enum mq_status requeue_dead(const struct cfg *c, const char *conn_name, uint64_t limit,
                            volatile sig_atomic_t *stop, uint64_t *done, char *err, size_t errlen);

#endif
