/* test_workq.c - unit tests of scan's bounded work queue (scanner/workq.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <time.h>

#include "clock.h"
#include "workq.h"

static int items[16];

/* Items come out in the order they went in, across the ring's wrap. */
static void test_fifo(void **state)
{
    (void)state;
    struct workq q;
    assert_int_equal(workq_init(&q, 4, 1, 1), 0);
    void *v;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 3; i++)
            workq_push(&q, &items[round * 3 + i]);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(workq_pop(&q, 0, &v), 1);
            assert_ptr_equal(v, &items[round * 3 + i]);
        }
    }
    assert_int_equal(workq_pop(&q, 0, &v), 0); /* empty, producer alive: timeout */
    workq_destroy(&q);
}

/* Once every producer is done, what is left still comes out, then -1. */
static void test_done(void **state)
{
    (void)state;
    struct workq q;
    assert_int_equal(workq_init(&q, 8, 2, 1), 0);
    void *v;
    workq_push(&q, &items[0]);
    workq_done(&q);
    assert_int_equal(workq_pop(&q, 0, &v), 1);
    assert_int_equal(workq_pop(&q, 0, &v), 0); /* one producer left */
    workq_push(&q, &items[1]);
    workq_done(&q);
    assert_int_equal(workq_pop(&q, 1000, &v), 1);
    assert_ptr_equal(v, &items[1]);
    double t0 = mono_now();
    assert_int_equal(workq_pop(&q, 1000, &v), -1);
    assert_true(mono_now() - t0 < 0.5); /* at once, not after the timeout */
    workq_destroy(&q);
}

/* The timed wait ends on time, measured on CLOCK_MONOTONIC, which is the
 * clock it waits on: not early, and not much late. */
static void test_timeout_on_time(void **state)
{
    (void)state;
    struct workq q;
    assert_int_equal(workq_init(&q, 4, 1, 1), 0);
    void *v = &items[0];
    static const int ms[] = {0, 50, 120, 300};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        double t0 = mono_now();
        assert_int_equal(workq_pop(&q, ms[i], &v), 0);
        double took = mono_now() - t0;
        assert_true(took >= ms[i] / 1000.0 - 0.001);
        assert_true(took < ms[i] / 1000.0 + 0.25);
    }
    assert_ptr_equal(v, &items[0]); /* untouched on timeout */
    workq_destroy(&q);
}

struct pusher {
    struct workq *q;
    int n;
    double delay_s;
    int keep_open; /* do not call workq_done (which wakes every waiter) */
};

static void *push_thread(void *arg)
{
    struct pusher *p = arg;
    if (p->delay_s > 0) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(p->delay_s * 1e9)};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < p->n; i++)
        workq_push(p->q, &items[i]);
    if (!p->keep_open)
        workq_done(p->q);
    return NULL;
}

/* A waiting consumer is woken by a push, long before its timeout. */
static void test_wakes_on_push(void **state)
{
    (void)state;
    struct workq q;
    assert_int_equal(workq_init(&q, 4, 1, 1), 0);
    struct pusher p = {.q = &q, .n = 1, .delay_s = 0.05};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, push_thread, &p), 0);
    void *v;
    double t0 = mono_now();
    assert_int_equal(workq_pop(&q, 5000, &v), 1);
    assert_true(mono_now() - t0 < 2.0);
    assert_ptr_equal(v, &items[0]);
    pthread_join(t, NULL);
    workq_destroy(&q);
}

/* A full queue holds the producer until there is room: the consumer still
 * gets every item, in order, through a queue smaller than the run. */
static void test_bounded(void **state)
{
    (void)state;
    struct workq q;
    assert_int_equal(workq_init(&q, 2, 1, 1), 0);
    struct pusher p = {.q = &q, .n = 16};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, push_thread, &p), 0);
    void *v;
    int got = 0, r;
    while ((r = workq_pop(&q, 2000, &v)) != -1) {
        assert_int_equal(r, 1);
        assert_true(q.count <= q.cap);
        assert_ptr_equal(v, &items[got]);
        got++;
    }
    assert_int_equal(got, 16);
    pthread_join(t, NULL);
    workq_destroy(&q);
}

/* Pop with timeout_ms while a thread pushes n items after a short delay,
 * without finishing; returns how long the pop took. */
static double pop_during_push(struct workq *q, int n, int timeout_ms)
{
    struct pusher p = {.q = q, .n = n, .delay_s = 0.05, .keep_open = 1};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, push_thread, &p), 0);
    void *v = NULL;
    double t0 = mono_now();
    assert_int_equal(workq_pop(q, timeout_ms, &v), 1);
    double took = mono_now() - t0;
    assert_ptr_equal(v, &items[0]);
    pthread_join(t, NULL);
    while (workq_pop(q, 0, &v) == 1)
        ;
    return took;
}

/* With wake_at, fewer waiting items do not wake the consumer before its
 * timeout (it then takes what is there); wake_at items do. wake_at is
 * capped at cap, and 0 counts as 1. */
static void test_wake_at(void **state)
{
    (void)state;
    struct workq q;
    assert_int_equal(workq_init(&q, 4, 1, 64), 0);
    assert_int_equal(q.wake_at, 4);
    workq_destroy(&q);
    assert_int_equal(workq_init(&q, 4, 1, 0), 0);
    assert_int_equal(q.wake_at, 1);
    workq_destroy(&q);

    assert_int_equal(workq_init(&q, 8, 1, 3), 0);
    assert_true(pop_during_push(&q, 1, 250) >= 0.249);
    assert_true(pop_during_push(&q, 3, 3000) < 1.5);
    workq_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_done),
        cmocka_unit_test(test_timeout_on_time),
        cmocka_unit_test(test_wakes_on_push),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_wake_at),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
