/* backoff.c - waits between reconnection attempts; see backoff.h. */
#include "backoff.h"

#include <time.h>
#include <unistd.h>

uint64_t backoff_seed(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return ((uint64_t)getpid() << 32) ^ (uint64_t)t.tv_sec * 1000000007u ^ (uint64_t)t.tv_nsec;
}

void backoff_init(struct backoff *b, uint64_t seed)
{
    /* splitmix64 of the seed: close seeds (pids) give unrelated states. */
    uint64_t z = seed + 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    b->rng = z != 0 ? z : 1;
    backoff_reset(b);
}

void backoff_reset(struct backoff *b)
{
    b->base = BACKOFF_FIRST_S;
}

/* A number in [0, 1) from the xorshift64 generator. */
static double uniform(struct backoff *b)
{
    uint64_t x = b->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b->rng = x;
    return (double)(x >> 11) / 9007199254740992.0; /* 2^53 */
}

double backoff_next(struct backoff *b, double left_s)
{
    double wait = b->base * (1.0 + BACKOFF_JITTER * (2.0 * uniform(b) - 1.0));
    b->base = b->base * 2 > BACKOFF_CAP_S ? BACKOFF_CAP_S : b->base * 2;
    if (left_s >= 0 && wait > left_s)
        wait = left_s;
    return wait > 0 ? wait : 0;
}
