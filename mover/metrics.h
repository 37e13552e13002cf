/*
 * metrics.h - move's Prometheus metrics (--metrics FILE): written every
 * --metrics-interval, on SIGHUP and at the end.
 */
#ifndef SCANMOVE_MOVER_METRICS_H
#define SCANMOVE_MOVER_METRICS_H

#include "consume.h"
#include "service.h"

/*
 * move_metrics_tick - write svc->metrics from st when it is due (every
 * svc->metrics_interval_ms), or now when last or now is set; nothing when
 * svc->metrics is "". A failure to write is logged once per run, not
 * fatal.
 */
void move_metrics_tick(const struct service_opts *svc, const struct cfg *cfg,
                       const struct consume_stats *st, int last, int now);

#endif
