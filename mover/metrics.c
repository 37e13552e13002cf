/* metrics.c - move's Prometheus metrics; see metrics.h. */
#include "metrics.h"

#include "clock.h"
#include "log.h"

#include <time.h>

#define LAST_SUCCESS "scanmove_move_last_success_timestamp_seconds"

/* The queue latency histogram's upper bounds, seconds: from a mover
 * keeping up (a fraction of a second) to a backlog of a day. */
static const double latency_bounds[] = {0.1, 0.25, 0.5,  1,    2.5,  5,     10,    30,    60,   120,
                                        300, 600,  1800, 3600, 7200, 14400, 28800, 43200, 86400};

void move_metrics_start(struct consume_stats *st)
{
    st->start = mono_now();
    metrics_hist_init(&st->latency, latency_bounds,
                      sizeof latency_bounds / sizeof latency_bounds[0]);
}

void move_metrics_handled(struct consume_stats *st, const struct msg *m, int observe)
{
    struct timespec t;
    double published;
    clock_gettime(CLOCK_REALTIME, &t);
    st->last_success = (double)t.tv_sec + (double)t.tv_nsec / 1e9;
    if (observe && m->published_at[0] != '\0' && msg_time_parse(m->published_at, &published) == 0)
        metrics_hist_observe(&st->latency, st->last_success - published);
}

int move_metrics_ask_queue(struct mq **dead, const struct cfg *cfg, struct consume_stats *st)
{
    char err[256];
    struct mq_queue_info q;
    if (*dead == NULL)
        return -1;
    if (mq_declare_topology(*dead, cfg, &q, err, sizeof err) == MQ_OK) {
        st->queue = q;
        return 0;
    }
    log_debug("cannot ask for the queue's counts (%s); opening another connection when needed",
              err);
    mq_close(*dead);
    *dead = NULL;
    return -1;
}

/* Labels: queue and worker, and one more pair (NULL: none). */
struct labels {
    const char *l[7];
};

static struct labels with(const char *queue, const char *worker, const char *name,
                          const char *value)
{
    struct labels x = {{"queue", queue, "worker", worker, name, value, NULL}};
    return x;
}

/* The counters by result and by dead-letter reason. */
static void write_files(struct metrics_writer *w, const char *q, const char *worker,
                        const struct consume_stats *st)
{
    static const char *const results[] = {"moved", "duplicate", "skipped", "dead", "requeued"};
    const uint64_t n[] = {st->moved, st->duplicates, st->skipped, st->dead, st->requeued};
    metrics_family(w, "scanmove_move_files_total", "counter",
                   "Messages this mover handled, by result.");
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
        metrics_u64(w, "scanmove_move_files_total", with(q, worker, "result", results[i]).l, n[i]);
    metrics_family(w, "scanmove_move_dead_letters_total", "counter",
                   "Messages this mover dead-lettered, by reason.");
    for (enum move_reason r = 0; r < MOVE_REASON__COUNT; r++)
        metrics_u64(w, "scanmove_move_dead_letters_total",
                    with(q, worker, "reason", move_reason_name(r)).l, st->by_reason[r]);
}

/* The whole file; last_success is 0 for never. */
static void write_all(struct metrics_writer *w, const char *q, const char *worker,
                      const struct consume_stats *st, double last_success)
{
    struct labels keep = with(q, worker, NULL, NULL);
    const char *const *l = keep.l;
    write_files(w, q, worker, st);
    metrics_family(w, "scanmove_move_bytes_total", "counter", "Bytes of the files moved.");
    metrics_u64(w, "scanmove_move_bytes_total", l, st->bytes);
    metrics_family(w, "scanmove_move_copy_bytes_total", "counter",
                   "Bytes copied across file systems (counted as they are written).");
    metrics_u64(w, "scanmove_move_copy_bytes_total", l, st->copy_bytes);
    metrics_family(w, "scanmove_move_queue_latency_seconds", "histogram",
                   "From scan's publish (the message's published_at) to the end of the move, "
                   "for files moved and duplicates.");
    metrics_histogram(w, "scanmove_move_queue_latency_seconds", l, &st->latency);
    metrics_family(w, "scanmove_move_duration_seconds", "gauge",
                   "How long this mover has been running.");
    metrics_gauge(w, "scanmove_move_duration_seconds", l,
                  st->start > 0 ? mono_now() - st->start : 0);
    metrics_family(w, LAST_SUCCESS, "gauge",
                   "When a mover last moved a file (or found it moved or skipped it), Unix "
                   "time; 0 never.");
    metrics_gauge(w, LAST_SUCCESS, l, last_success);
    if (st->have_queue)
        metrics_queue(w, l, st->queue.messages, st->queue.consumers, st->queue.dead_messages);
    metrics_reconnects(w, "move", q, worker, st->reconnects);
}

void move_metrics_tick(const struct service_opts *svc, const struct cfg *cfg,
                       const struct consume_stats *st, int last, int now)
{
    static double due, previous = -1;
    static int warned;
    if (svc->metrics[0] == '\0')
        return;
    double t = mono_now();
    if (due == 0)
        due = t + (double)svc->metrics_interval_ms / 1000.0;
    if (!last && !now && t < due)
        return;
    due = t + (double)svc->metrics_interval_ms / 1000.0;
    if (previous < 0 && !metrics_read_value(svc->metrics, LAST_SUCCESS, &previous))
        previous = 0; /* the last success of an earlier run, from the file */
    char worker[256], err[1024];
    metrics_worker(svc->metrics, worker, sizeof worker);
    struct metrics_writer w;
    if (metrics_begin(&w, svc->metrics, err, sizeof err) == 0) {
        write_all(&w, cfg->queue, worker, st, st->last_success > 0 ? st->last_success : previous);
        if (metrics_commit(&w, err, sizeof err) == 0)
            return;
    }
    if (!warned++)
        log_warn("%s", err);
}
