/*
 * metrics.h - scan's Prometheus metrics (--metrics FILE): written every
 * --metrics-interval while the run goes on, on SIGHUP, and at the end.
 */
#ifndef SCANMOVE_SCANNER_METRICS_H
#define SCANMOVE_SCANNER_METRICS_H

#include "report.h"
#include "run.h"

/*
 * scan_metrics_tick - write o->svc.metrics from r when it is due, or now
 * when now is set; nothing when o->svc.metrics is "". A failure to write
 * is logged once per run, not fatal.
 */
void scan_metrics_tick(const struct run_opts *o, const struct report *r, int now);

#endif
