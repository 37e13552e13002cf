/* status.c - a running scan's progress, metrics and signals; see status.h. */
#include "status.h"

#include "log.h"
#include "metrics.h"
#include "service.h"

void status_tick(struct report *r, const struct run_opts *o)
{
    int hup = service_take_hup();
    if (hup)
        log_reopen();
    if (service_take_usr1())
        report_status_line(r);
    report_progress(r, 0);
    scan_metrics_tick(o, r, hup);
}
