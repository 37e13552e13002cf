/*
 * metrics.h - move's Prometheus metrics (--metrics FILE): written every
 * --metrics-interval, on SIGHUP and at the end.
 */
#ifndef SCANMOVE_MOVER_METRICS_H
#define SCANMOVE_MOVER_METRICS_H

#include "consume.h"
#include "service.h"

/*
 * move_metrics_start - the counts of st that --metrics needs, at the start
 * of a run (consume_run): the start time and the empty latency histogram.
 */
void move_metrics_start(struct consume_stats *st);

/*
 * move_metrics_handled - count in st a message handled without a dead
 * letter (moved, duplicate or skipped): its time as the last success, and
 * with observe (moved, now or before) its queue latency, from m's
 * published_at (older scans write none: not observed). Per message: a
 * clock reading, a parse, a few comparisons; no allocation.
 */
void move_metrics_handled(struct consume_stats *st, const struct msg *m, int observe);

/*
 * move_metrics_ask_queue - ask the broker for the queue's counts into
 * st->queue, on *dead, the dead-letter connection (between dead letters it
 * waits for no confirm, while the consuming one may hold deliveries that a
 * reply must not be mixed with), with cfg's names. Returns 0, or -1 when
 * *dead is NULL or the asking failed: then *dead is closed and NULL (the
 * next dead letter opens another) and st->queue stays as it was.
 */
int move_metrics_ask_queue(struct mq **dead, const struct cfg *cfg, struct consume_stats *st);

/*
 * move_metrics_tick - write svc->metrics from st when it is due (every
 * svc->metrics_interval_ms), or now when last or now is set; nothing when
 * svc->metrics is "". A failure to write is logged once per run, not
 * fatal.
 */
void move_metrics_tick(const struct service_opts *svc, const struct cfg *cfg,
                       const struct consume_stats *st, int last, int now);

#endif
