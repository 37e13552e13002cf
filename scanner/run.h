/*
 * run.h - one scan run: walk and inspect the roots (pipeline), publish
 * each accepted file under confirms (publish), and report every outcome
 * and the summary (report). Main thread only.
 */
#ifndef SCANMOVE_RUN_H
#define SCANMOVE_RUN_H

#include <signal.h>
#include <stdint.h>

#include "cfg.h"
#include "service.h"
#include "inspect.h"
#include "pipeline.h"
#include "walk.h"

/* What a run needs from the command line. */
struct run_opts {
    struct cfg cfg;             /* resolved (cfg_finish) unless dry_run */
    struct service_opts svc;    /* --metrics, --log-format, --log-file */
    struct inspect_rules rules; /* the ages are set by run_scan */
    struct walk_opts walk;
    int dry_run, json;
    const char *rejects; /* --rejects FILE, "-" or NULL */
    uint64_t jobs, window, reconnect_ms, blocked_ms, min_age_ms, max_age_ms;
    uint64_t requeue_after_ms; /* --requeue-after; 0: publish marked files again */
    uint64_t max_queued;       /* --max-queued; 0: no limit */
    int wait_lock;             /* --wait: wait for another scan of a root */
    int no_mark;               /* --no-mark: neither read nor write marks */
    /* set by a signal (its number): stop waiting for a blocked broker */
    volatile sig_atomic_t *stop_signal;
    /* set by a signal, and by run_scan once the broker is lost for good:
     * end the walk */
    volatile sig_atomic_t *stop_walk;
};

/*
 * run_scan - scan the n_roots open roots as o says: print the messages
 * (dry run) or publish them, and write outcomes, --rejects and the summary.
 * The roots stay open and owned by the caller. Returns the exit status:
 * 0, 1 when some files failed, 128 + the signal that stopped the run, or
 * the status of the broker or I/O failure that ended it (printed).
 */
int run_scan(struct run_opts *o, struct scan_root *roots, unsigned n_roots);

#endif
