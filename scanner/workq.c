/* workq.c - bounded blocking work queue; see workq.h. */
#include "workq.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

int workq_init(struct workq *q, size_t cap, int producers, size_t wake_at)
{
    q->slots = calloc(cap, sizeof *q->slots);
    if (q->slots == NULL)
        return -1;
    q->cap = cap;
    q->head = q->count = 0;
    q->producers = producers;
    q->wake_at = wake_at < 1 ? 1 : wake_at > cap ? cap : wake_at;
    pthread_mutex_init(&q->mu, NULL);
    /* Timed waits count on the monotonic clock, as every timeout here does. */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_empty, &attr);
    pthread_condattr_destroy(&attr);
    pthread_cond_init(&q->not_full, NULL);
    return 0;
}

void workq_destroy(struct workq *q)
{
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->slots);
}

void workq_push(struct workq *q, void *item)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == q->cap)
        pthread_cond_wait(&q->not_full, &q->mu);
    q->slots[(q->head + q->count) % q->cap] = item;
    q->count++;
    if (q->count >= q->wake_at)
        pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

void workq_done(struct workq *q)
{
    pthread_mutex_lock(&q->mu);
    q->producers--;
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

int workq_pop(struct workq *q, int timeout_ms, void **item)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int r = 0;
    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && q->producers > 0) {
        if (pthread_cond_timedwait(&q->not_empty, &q->mu, &until) == ETIMEDOUT)
            break;
    }
    if (q->count > 0) {
        *item = q->slots[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
        pthread_cond_signal(&q->not_full);
        r = 1;
    } else if (q->producers <= 0) {
        r = -1;
    }
    pthread_mutex_unlock(&q->mu);
    return r;
}
