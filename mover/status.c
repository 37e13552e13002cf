/* status.c - a running mover's progress, metrics, notifications and signals; see status.h. */
#include "status.h"

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "report.h"

#include <stdio.h>

#define STATUS_EVERY 2.0 /* seconds between STATUS= updates */

static const struct service_opts *status_svc;
static const struct cfg *status_cfg;
static volatile sig_atomic_t *status_stop;
static int ready_sent, stopping_sent, consuming_said = -1;
static double status_sent;

void status_start(const struct service_opts *svc, const struct cfg *cfg,
                  volatile sig_atomic_t *stop)
{
    char err[256];
    status_svc = svc;
    status_cfg = cfg;
    status_stop = stop;
    if (notify_init(err, sizeof err) < 0)
        log_warn("%s; not notifying the service manager", err);
}

/* STATUS= with the counts, every STATUS_EVERY seconds or when the
 * connection's state changed. */
static void send_status(const struct consume_stats *st, double now)
{
    char counts[160], line[256];
    if (now - status_sent < STATUS_EVERY && st->consuming == consuming_said)
        return;
    status_sent = now;
    consuming_said = st->consuming;
    report_counts(counts, sizeof counts, st);
    snprintf(line, sizeof line, "STATUS=%s: %s, %.0f files/s",
             st->consuming ? "consuming" : "waiting for the broker", counts, report_rate(st, now));
    notify_send(line);
}

/* The service manager's part: READY=1 once consuming, STOPPING=1 once
 * draining, the status, and the watchdog's ping from this loop. */
static void notify_tick(const struct consume_stats *st, int last)
{
    if (st->consuming && !ready_sent) {
        ready_sent = 1;
        notify_send("READY=1");
    }
    if ((last || (status_stop != NULL && *status_stop)) && !stopping_sent) {
        stopping_sent = 1;
        notify_send("STOPPING=1");
    }
    send_status(st, mono_now());
    notify_watchdog();
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
    notify_tick(st, last);
}
