/*
 * status.h - what a running scan tells the people and programs watching
 * it, as it goes: the progress line on a terminal, the metrics file every
 * --metrics-interval, and the status line SIGUSR1 asks for; and SIGHUP's
 * reopening of the outputs. Main thread only.
 */
#ifndef SCANMOVE_SCANNER_STATUS_H
#define SCANMOVE_SCANNER_STATUS_H

#include "report.h"
#include "run.h"

/*
 * status_tick - called often while the run goes on: redraw the progress
 * line when due (report_progress), and serve the signals and the metrics.
 */
void status_tick(struct report *r, const struct run_opts *o);

#endif
