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
    int producers; /* producers still to call queue_done */
};

/* queue_init - room for cap items, with that many producers. Returns 0 or -1 (no memory). */
int queue_init(struct queue *q, size_t cap, int producers);

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
