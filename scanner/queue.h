/*
 * queue.h - a bounded, blocking queue of pointers between scan's threads.
 * Bounded so that a fast walk cannot outrun inspection or publishing and
 * grow memory: producers wait when it is full.
 */
#ifndef SCANMOVE_QUEUE_H
#define SCANMOVE_QUEUE_H

#include <pthread.h>
#include <stddef.h>

struct queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    void **slots;
    size_t cap, head, count;
    int producers;  /* producers still to call queue_done */
    size_t wake_at; /* wake a waiting consumer once this many items wait */
};

/*
 * queue_init - room for cap items, with that many producers. A consumer
 * waiting in queue_pop is woken once wake_at items wait (1: at once), or
 * when its timeout ends: a larger wake_at saves a thread wake-up per item
 * where the consumer is faster than the producers and waits with a short
 * timeout anyway. Returns 0 or -1 (no memory).
 */
int queue_init(struct queue *q, size_t cap, int producers, size_t wake_at);

/* queue_destroy - free the slots (items left in it are not freed). */
void queue_destroy(struct queue *q);

/* queue_push - append item, waiting while the queue is full. */
void queue_push(struct queue *q, void *item);

/* queue_done - one producer will push no more. */
void queue_done(struct queue *q);

/*
 * queue_pop - take the oldest item into *item, waiting up to timeout_ms.
 * Returns 1 with an item, 0 on timeout, -1 when every producer is done
 * and the queue is empty.
 */
int queue_pop(struct queue *q, int timeout_ms, void **item);

#endif
