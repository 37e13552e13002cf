/*
 * status.h - what a running mover tells the people and programs watching
 * it, once per turn of the delivery loop (and between the chunks of a long
 * copy): the progress line on a terminal, the metrics file, the service
 * manager's notifications (sd_notify), and the status line SIGUSR1 asks
 * for; and SIGHUP's reopening of the outputs. Main thread only.
 */
#ifndef SCANMOVE_MOVER_STATUS_H
#define SCANMOVE_MOVER_STATUS_H

#include "consume.h"
#include "service.h"

/*
 * status_start - note the settings (kept, not copied: they must outlive
 * the run) and the start of the run, before consume_run.
 */
void status_start(const struct service_opts *svc, const struct cfg *cfg);

/*
 * status_tick - the consume_opts progress hook: called after every
 * delivery and wait, and during long copies (last = 0), and once at the
 * end (last = 1), when the final metrics are written.
 */
void status_tick(const struct consume_stats *st, int last);

#endif
