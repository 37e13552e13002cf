/* test_backoff.c - unit tests of the reconnection waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backoff.h"

/* Without a deadline: 1 s doubling to the cap, each within the jitter. */
static void test_doubling_to_cap(void **state)
{
    (void)state;
    static const double base[] = {1, 2, 4, 5, 5, 5, 5, 5, 5, 5};
    for (uint64_t seed = 0; seed < 200; seed++) {
        struct backoff b;
        backoff_init(&b, seed);
        for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
            double w = backoff_next(&b, -1);
            assert_true(w >= base[i] * (1 - BACKOFF_JITTER) - 1e-9);
            assert_true(w <= base[i] * (1 + BACKOFF_JITTER) + 1e-9);
        }
    }
    assert_true(BACKOFF_CAP_S * (1 + BACKOFF_JITTER) <= 10.0);
}

/* The jitter spreads: over many seeds the first waits cover most of the
 * range, and they are not all alike; the same seed gives the same waits. */
static void test_jitter(void **state)
{
    (void)state;
    double lo = 10, hi = 0;
    for (uint64_t seed = 1; seed <= 1000; seed++) {
        struct backoff b;
        backoff_init(&b, seed * 7919);
        double w = backoff_next(&b, -1);
        lo = w < lo ? w : lo;
        hi = w > hi ? w : hi;
    }
    assert_true(lo < 0.85 && hi > 1.15);
    struct backoff x, y;
    backoff_init(&x, 42);
    backoff_init(&y, 42);
    for (int i = 0; i < 20; i++)
        assert_true(backoff_next(&x, -1) == backoff_next(&y, -1));
    /* Two processes (seeds) rarely wait alike. */
    backoff_init(&x, 1000);
    backoff_init(&y, 1001);
    assert_true(backoff_next(&x, -1) != backoff_next(&y, -1));
}

/* Never past the deadline, never negative. */
static void test_deadline(void **state)
{
    (void)state;
    struct backoff b;
    backoff_init(&b, backoff_seed());
    for (int i = 0; i < 5; i++)
        backoff_next(&b, -1);
    assert_true(backoff_next(&b, 0.3) <= 0.3);
    assert_true(backoff_next(&b, 0) == 0);
    assert_true(backoff_next(&b, 100) >= BACKOFF_CAP_S * (1 - BACKOFF_JITTER) - 1e-9);
}

/* backoff_reset starts over at the first wait. */
static void test_reset(void **state)
{
    (void)state;
    struct backoff b;
    backoff_init(&b, 7);
    for (int i = 0; i < 6; i++)
        backoff_next(&b, -1);
    backoff_reset(&b);
    double w = backoff_next(&b, -1);
    assert_true(w >= BACKOFF_FIRST_S * (1 - BACKOFF_JITTER) - 1e-9);
    assert_true(w <= BACKOFF_FIRST_S * (1 + BACKOFF_JITTER) + 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubling_to_cap),
        cmocka_unit_test(test_jitter),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
