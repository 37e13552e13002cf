/*
 * dead.h - move --dead, --purge-dead and --requeue-dead: go through the
 * letters of <queue>.dead in their order, list them as JSON lines, delete
 * or requeue those the options pick, and leave every other one in place
 * and in order.
 */
#ifndef SCANMOVE_DEAD_H
#define SCANMOVE_DEAD_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg.h"
#include "consume.h"
#include "layout.h"
#include "mq.h"
#include "requeue.h"

enum dead_mode {
    DEAD_LIST,   /* --dead: print each letter picked */
    DEAD_PURGE,  /* --purge-dead: delete each letter picked */
    DEAD_REQUEUE /* --requeue-dead: requeue, or drop as obsolete (requeue_judge) */
};

#define DEAD_REASONS_MAX 32 /* --reason given at most this often */

struct dead_opts {
    const struct cfg *cfg;
    const char *conn_name;
    enum dead_mode mode;
    /* --reason: a letter is picked only with one of these reasons; none: any */
    const char *reasons[DEAD_REASONS_MAX];
    unsigned n_reasons;
    /* --from (requeue): a letter of another root (or whose body does not
     * decode) is not picked; n_roots 0: any root */
    const struct consume_root *roots;
    unsigned n_roots;
    int dest_fd;                 /* --to (requeue): DEST open, or -1 */
    const struct layout *layout; /* --layout (requeue): where a file lands in --to; NULL {path} */
    uint64_t limit;              /* --count: pick at most this many; 0: no limit */
    int dry_run;                 /* change nothing; print each letter with its "action" */
    volatile sig_atomic_t *stop;
    FILE *lines; /* the JSON lines of --dead and --dry-run */
};

struct dead_stats {
    uint64_t seen;                     /* letters looked at */
    uint64_t listed;                   /* --dead: printed */
    uint64_t purged;                   /* --purge-dead: deleted (or would be) */
    uint64_t verdicts[REQUEUE__COUNT]; /* --requeue-dead: requeued, or dropped and why */
    uint64_t left;                     /* looked at and left in place (not picked) */
    int out_errno;                     /* printing a letter failed (EPIPE...): stopped printing */
};

/*
 * dead_run - connect as o says, declare the topology, and take the letters
 * of <queue>.dead one by one with basic.get and no ack, as many as the
 * queue held then (letters added meanwhile are not touched); past o->limit
 * picked, or once *o->stop is set, none is picked any more. A picked letter is printed (DEAD_LIST),
 * acknowledged, which deletes it (DEAD_PURGE, or a drop), or published
 * again to the queue with its history and, once the broker has confirmed
 * the copy, acknowledged (DEAD_REQUEUE): an interruption may leave a
 * letter in both queues, never in neither. At the end the channel is
 * closed, and the broker puts every letter not acknowledged back, in its
 * order and unchanged (on a quorum queue its x-delivery-count header
 * grows by one; <queue>.dead has no delivery limit, so none is ever
 * dropped for it). Counts go into *st. Returns MQ_OK, or the failure with
 * its sentence (an unroutable or refused copy ends the run, its letter
 * kept).
 */
enum mq_status dead_run(const struct dead_opts *o, struct dead_stats *st, char *err, size_t errlen);

/*
 * dead_report - say what dead_run did: one line on stderr (unless -q),
 * and, for DEAD_PURGE and DEAD_REQUEUE, one JSON object and a newline on
 * json when it is not NULL (see move(1)); but when printing the letters
 * failed (st->out_errno), the error "cannot write to standard output: ..."
 * instead of the JSON object.
 */
void dead_report(const struct dead_opts *o, const struct dead_stats *st, FILE *json);

#endif
