/*
 * metrics.h - scan's Prometheus metrics (--metrics FILE): written every
 * --metrics-interval while the run goes on, on SIGHUP, and at the end with
 * the run's result. docs/monitoring.md lists them.
 */
#ifndef SCANMOVE_SCANNER_METRICS_H
#define SCANMOVE_SCANNER_METRICS_H

#include "report.h"
#include "run.h"

/*
 * scan_metrics_tick - write o->svc.metrics from r when it is due (every
 * o->svc.metrics_interval_ms from the first call), or now when now is set;
 * nothing when o->svc.metrics is "". A failure to write is logged once per
 * run, not fatal.
 */
void scan_metrics_tick(const struct run_opts *o, const struct report *r, int now);

/*
 * scan_metrics_end - write the file a last time, for a run that ends with
 * the exit status code: a run that reached its end with the broker (0, or
 * 1 when some files failed), not a dry run, sets
 * scanmove_scan_last_success_timestamp_seconds to now; any other keeps the
 * value the file had (0 when it had none). Returns code.
 */
int scan_metrics_end(const struct run_opts *o, const struct report *r, int code);

#endif
