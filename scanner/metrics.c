/* metrics.c - scan's Prometheus metrics; see metrics.h. */
#include "metrics.h"

#include "../common/metrics.h"
#include "clock.h"
#include "exitcode.h"
#include "log.h"

#include <time.h>

#define LAST_SUCCESS "scanmove_scan_last_success_timestamp_seconds"

/* The counts of the reasons of one outcome: rejected (failure 0), failed
 * (failure 1), queued (-1: the one reason already-queued). */
static void by_reason(struct metrics_writer *w, const char *queue, const char *worker,
                      const struct report *r, int failure)
{
    const char *outcome = failure < 0 ? "queued" : failure ? "failed" : "rejected";
    for (enum scan_reason i = SCAN_REASON_NONE + 1; i < SCAN_REASON_COUNT; i++) {
        int queued = i == SCAN_REASON_ALREADY_QUEUED;
        if (failure < 0 ? !queued : queued || scan_reason_is_failure(i) != failure)
            continue;
        const char *const l[] = {"queue",   queue,   "worker", worker,
                                 "outcome", outcome, "reason", scan_reason_name(i),
                                 NULL};
        metrics_u64(w, "scanmove_scan_files_total", l, r->by_reason[i]);
    }
}

/* The whole file, with the last success at last_success (0: never). */
static void write_all(struct metrics_writer *w, const struct run_opts *o, const struct report *r,
                      double last_success)
{
    char worker[256];
    metrics_worker(o->svc.metrics, worker, sizeof worker);
    const char *q = o->cfg.queue;
    const char *const l[] = {"queue", q, "worker", worker, NULL};
    const char *const pub[] = {"queue",     q,        "worker", worker, "outcome",
                               "published", "reason", "none",   NULL};
    metrics_family(w, "scanmove_scan_files_total", "counter",
                   "Files this run of scan looked at, by outcome and reason.");
    metrics_u64(w, "scanmove_scan_files_total", pub, r->published);
    for (int failure = -1; failure <= 1; failure++)
        by_reason(w, q, worker, r, failure);
    metrics_family(w, "scanmove_scan_bytes_total", "counter",
                   "Bytes of the files this run of scan published.");
    metrics_u64(w, "scanmove_scan_bytes_total", l, r->bytes);
    metrics_family(w, "scanmove_scan_duration_seconds", "gauge",
                   "How long this run of scan has taken (so far, while it runs).");
    metrics_gauge(w, "scanmove_scan_duration_seconds", l, mono_now() - r->start);
    metrics_reconnects(w, "scan", q, worker, r->reconnects);
    metrics_family(w, LAST_SUCCESS, "gauge",
                   "When a run of scan last ended with the broker reached (exit 0 or 1), "
                   "Unix time; 0 never.");
    metrics_gauge(w, LAST_SUCCESS, l, last_success);
    if (r->have_queue)
        metrics_queue(w, l, r->queue_messages, r->queue_consumers, r->queue_dead);
}

/* Write the file; success: this run has just succeeded. */
static void write_file(const struct run_opts *o, const struct report *r, int success)
{
    static int have_previous, warned;
    static double previous; /* the last success of an earlier run, from the file */
    struct metrics_writer w;
    char err[1024];
    if (!have_previous) {
        have_previous = 1;
        if (!metrics_read_value(o->svc.metrics, LAST_SUCCESS, &previous))
            previous = 0;
    }
    if (success) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        previous = (double)t.tv_sec + (double)t.tv_nsec / 1e9;
    }
    if (metrics_begin(&w, o->svc.metrics, err, sizeof err) == 0) {
        write_all(&w, o, r, previous);
        if (metrics_commit(&w, err, sizeof err) == 0)
            return;
    }
    if (!warned++)
        log_warn("%s", err);
}

void scan_metrics_tick(const struct run_opts *o, const struct report *r, int now)
{
    static double due;
    if (o->svc.metrics[0] == '\0')
        return;
    double t = mono_now();
    if (due == 0)
        due = t + (double)o->svc.metrics_interval_ms / 1000.0;
    if (!now && t < due)
        return;
    due = t + (double)o->svc.metrics_interval_ms / 1000.0;
    write_file(o, r, 0);
}

int scan_metrics_end(const struct run_opts *o, const struct report *r, int code)
{
    if (o->svc.metrics[0] != '\0')
        write_file(o, r, !o->dry_run && (code == EXITCODE_OK || code == EXITCODE_SOME_FAILED));
    return code;
}
