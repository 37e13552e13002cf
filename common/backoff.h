/*
 * backoff.h - how long to wait between attempts to reach the broker again.
 *
 * 1 s, doubling up to a cap of 5 s, each wait jittered by up to 20% either
 * way so that many clients that lost the same broker do not come back in
 * step; never past a deadline. The cap is low on purpose: a broker that is
 * back is found within about 6 s, and one attempt every few seconds costs
 * a broker nothing. Pure arithmetic (the jitter comes from a small
 * generator seeded once per process), so that it can be unit-tested;
 * the callers do the sleeping.
 */
#ifndef SCANMOVE_BACKOFF_H
#define SCANMOVE_BACKOFF_H

#include <stdint.h>

#define BACKOFF_FIRST_S 1.0 /* the first wait, before jitter */
#define BACKOFF_CAP_S 5.0   /* the longest wait, before jitter */
#define BACKOFF_JITTER 0.2  /* each wait is base * (1 +- up to this) */

struct backoff {
    double base;  /* the next wait before jitter, in seconds */
    uint64_t rng; /* xorshift64 state, never 0 */
};

/*
 * backoff_seed - a seed that differs from process to process (process id
 * and clock), for backoff_init.
 */
uint64_t backoff_seed(void);

/*
 * backoff_init - start b at the first wait, its jitter drawn from seed
 * (any value; the same seed gives the same waits). b must not be NULL.
 */
void backoff_init(struct backoff *b, uint64_t seed);

/* backoff_reset - start over at the first wait, keeping the jitter's state. */
void backoff_reset(struct backoff *b);

/*
 * backoff_next - the next wait in seconds, and double the base for the one
 * after (up to BACKOFF_CAP_S). With left_s >= 0 (the time left before a
 * deadline) the wait is never longer than left_s, so that the last attempt
 * is made at the deadline, not after it; left_s < 0 means no deadline.
 * Never negative.
 */
double backoff_next(struct backoff *b, double left_s);

#endif
