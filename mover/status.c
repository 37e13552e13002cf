/* status.c - a running mover's progress, metrics, notifications and signals; see status.h. */
#include "status.h"

#include "log.h"
#include "metrics.h"
#include "report.h"

static const struct service_opts *status_svc;
static const struct cfg *status_cfg;

void status_start(const struct service_opts *svc, const struct cfg *cfg)
{
    status_svc = svc;
    status_cfg = cfg;
}

void status_tick(const struct consume_stats *st, int last)
{
    int hup = service_take_hup();
    if (hup)
        log_reopen();
    if (service_take_usr1())
        report_status_line(st);
    report_progress(st, last);
    if (status_svc != NULL)
        move_metrics_tick(status_svc, status_cfg, st, last, hup);
}
