/* mq_reconnect.c - the loop of reconnection attempts; see mq_reconnect.h. */
#include "mq_reconnect.h"

#include "clock.h"

#include <stdio.h>

void mq_reconnect_init(struct mq_reconnect *r)
{
    backoff_init(&r->backoff, backoff_seed());
}

enum mq_status mq_reconnect(struct mq_reconnect *r, char *err, size_t errlen)
{
    int limited = r->timeout_ms > 0;
    double deadline = mono_now() + (double)r->timeout_ms / 1000.0;
    char why[1024];
    snprintf(why, sizeof why, "%s", err);
    backoff_reset(&r->backoff);
    for (int tries = 0;; tries++) {
        double wait = 0; /* with at_once, the first attempt comes at once: said all the same */
        if (tries > 0 || !r->at_once)
            wait = backoff_next(&r->backoff, limited ? deadline - mono_now() : -1);
        if (r->waiting != NULL)
            r->waiting(r->arg, why, wait);
        for (double left = wait; left > 0; left -= 0.5) {
            mono_nap(left < 0.5 ? left : 0.5);
            if (r->tick != NULL)
                r->tick(r->arg);
        }
        if (r->stop != NULL && *r->stop)
            return MQ_OK;
        enum mq_status s = r->connect(r->arg, why, sizeof why);
        if (s == MQ_OK)
            return MQ_OK;
        if (!mq_transient(s)) { /* refused, or a wrong port or certificate: final */
            snprintf(err, errlen, "%s", why);
            return s;
        }
        if (limited && mono_now() >= deadline) {
            snprintf(err, errlen, "%s", why);
            return MQ_ERR_UNREACHABLE;
        }
    }
}
