/*
 * workq.h - a bounded, blocking work queue of pointers between scan's
 * threads (not a broker queue). Bounded so that a fast walk cannot outrun
 * inspection or publishing and grow memory: producers wait when it is full.
 */
#ifndef SCANMOVE_WORKQ_H
#define SCANMOVE_WORKQ_H

#include <pthread.h>
#include <stddef.h>

struct workq {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full; /* not_empty waits on CLOCK_MONOTONIC */
    void **slots;
    size_t cap, head, count;
    int producers;  /* producers still to call workq_done */
    size_t wake_at; /* wake a waiting consumer once this many items wait */
};

/*
 * workq_init - room for cap (> 0) items, with that many producers. A
 * consumer waiting in workq_pop is woken once wake_at items wait (1: at
 * once), or when its timeout ends: a larger wake_at saves a thread wake-up
 * per item where the consumer is faster than the producers and waits with
 * a short timeout anyway. Returns 0 or -1 (no memory).
 */
int workq_init(struct workq *q, size_t cap, int producers, size_t wake_at);

/* workq_destroy - free the slots (items left in it are not freed). */
void workq_destroy(struct workq *q);

/* workq_push - append item, waiting while the queue is full. */
void workq_push(struct workq *q, void *item);

/* workq_done - one producer will push no more. */
void workq_done(struct workq *q);

/*
 * workq_pop - take the oldest item into *item, waiting up to timeout_ms,
 * measured on CLOCK_MONOTONIC (a wall-clock step neither shortens nor
 * stretches the wait). Returns 1 with an item, 0 on timeout, -1 when every
 * producer is done and the queue is empty.
 */
int workq_pop(struct workq *q, int timeout_ms, void **item);

#endif
