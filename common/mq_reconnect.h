/*
 * mq_reconnect.h - reaching the broker again after a connection is lost:
 * the one loop of attempts, with the waits of backoff.h, that scan's
 * publisher and move's consumer share.
 *
 * Each tool says what a connection needs (its connect callback: connect,
 * declare, confirm mode, consume...) and what to tell the user before each
 * wait (its waiting callback, which logs: the library never prints).
 */
#ifndef SCANMOVE_MQ_RECONNECT_H
#define SCANMOVE_MQ_RECONNECT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "backoff.h"
#include "mq.h"

struct mq_reconnect {
    uint64_t timeout_ms; /* give up this long after the loss; 0: never give up */
    /*
     * connect - one attempt: make the caller's connection ready to use.
     * Returns MQ_OK, or the failure with its sentence in err. Must not be
     * NULL.
     */
    enum mq_status (*connect)(void *arg, char *err, size_t errlen);
    /*
     * waiting - called before each wait of wait_s seconds, with why the
     * last attempt (or the lost connection) failed; may be NULL.
     */
    void (*waiting)(void *arg, const char *why, double wait_s);
    /*
     * tick - called at least every 0.5 s during the waits, so that the
     * caller serves its signals (SIGHUP, SIGUSR1) and its status outputs
     * while the broker is away; may be NULL.
     */
    void (*tick)(void *arg);
    void *arg;                   /* handed to connect and waiting */
    volatile sig_atomic_t *stop; /* set (by a signal): make no more attempts; may be NULL */
    int at_once;                 /* make the first attempt without a wait (another broker of
                                    the list may answer at once) */
    struct backoff backoff;      /* private: set up by mq_reconnect_init */
};

/*
 * mq_reconnect_init - set up r's waits (its jitter seeded per process);
 * fill in the other fields before or after. r must not be NULL.
 */
void mq_reconnect_init(struct mq_reconnect *r);

/*
 * mq_reconnect - after a lost connection (err holds why), wait and call
 * r->connect until it succeeds (with r->at_once, the first call comes
 * after a wait of 0 s, said to r->waiting as the others): waits of 1 s
 * doubling to 5 s, jittered
 * (backoff.h), timed on CLOCK_MONOTONIC; with a timeout, the last attempt
 * is made at its deadline and none after. Returns MQ_OK once connected;
 * MQ_OK too, without another attempt, when *r->stop was found set after a
 * wait (the caller knows by its own state that nothing connected); the
 * failure of an attempt that retrying cannot mend (not mq_transient: the
 * password, a certificate, a wrong port...) at once; MQ_ERR_UNREACHABLE
 * when the deadline passed. On failure err holds the last attempt's
 * sentence.
 */
enum mq_status mq_reconnect(struct mq_reconnect *r, char *err, size_t errlen);

#endif
