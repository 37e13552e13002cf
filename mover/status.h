/*
 * status.h - what a running mover tells the people and programs watching
 * it, once per turn of the delivery loop (and between the chunks of a long
 * copy, and before each wait for the broker): the progress line on a
 * terminal, the metrics file, the service manager's notifications
 * (READY=1 once consuming, STATUS= with the counts, WATCHDOG=1,
 * STOPPING=1 on a drain), and the status line SIGUSR1 asks for; and
 * SIGHUP's reopening of the outputs. Main thread only.
 */
#ifndef SCANMOVE_MOVER_STATUS_H
#define SCANMOVE_MOVER_STATUS_H

#include <signal.h>

#include "consume.h"
#include "service.h"

/*
 * status_start - note the settings and the stop flag (kept, not copied:
 * they must outlive the run) and the start of the run, and open the
 * service manager's socket (notify_init; a bad $NOTIFY_SOCKET is warned
 * about, not fatal). Call before consume_run.
 */
void status_start(const struct service_opts *svc, const struct cfg *cfg,
                  volatile sig_atomic_t *stop);

/*
 * status_tick - the consume_opts progress hook: called after every
 * delivery and wait, during long copies and before each wait for the
 * broker (last = 0), and once at the end (last = 1), when the final
 * metrics are written and STOPPING=1 is sent if it was not yet.
 */
void status_tick(const struct consume_stats *st, int last);

#endif
