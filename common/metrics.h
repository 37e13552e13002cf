/*
 * metrics.h - a writer of the Prometheus text exposition format (version
 * 0.0.4, what node_exporter's textfile collector reads), into a file
 * replaced atomically, and a histogram cheap enough to observe per message.
 *
 * Writing: metrics_begin() opens a temporary file in the directory of the
 * target (".NAME.PID.XXXXXX", mode 0644: a name the textfile collector,
 * which reads *.prom only, never takes); metrics_family() starts a metric
 * family (HELP and TYPE lines), metrics_u64(), metrics_gauge() and
 * metrics_histogram() add its samples; metrics_commit() flushes, fsyncs and
 * renames the temporary over the target, so a reader sees the old file or
 * the new one, never half of one. Errors are kept until metrics_commit(),
 * which reports the first. Library code: no output, no exit.
 *
 * Labels are given as a NULL-terminated array of name, value pairs:
 * {"queue", "files", "result", "moved", NULL}; values are escaped (\\, \"
 * and \n), names are the caller's constants.
 */
#ifndef SCANMOVE_METRICS_H
#define SCANMOVE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_BUCKETS_MAX 24 /* upper bounds of a histogram, +Inf not counted */

struct metrics_writer {
    FILE *f;             /* the temporary file */
    char path[4096];     /* the target */
    char tmp[4096 + 64]; /* the temporary's name */
    int err;             /* errno of the first failure, 0 none */
};

/*
 * A histogram: counts[i] holds the observations v <= bounds[i] and above
 * bounds[i - 1] (not cumulative: metrics_histogram() adds them up),
 * counts[n] those above every bound. bounds is not copied: a static array,
 * increasing.
 */
struct metrics_hist {
    const double *bounds;
    unsigned n;
    uint64_t counts[METRICS_BUCKETS_MAX + 1];
    uint64_t count;
    double sum;
};

/*
 * metrics_hist_init - zero h, with the n (at most METRICS_BUCKETS_MAX)
 * increasing upper bounds of bounds, which must outlive h.
 */
void metrics_hist_init(struct metrics_hist *h, const double *bounds, unsigned n);

/*
 * metrics_hist_observe - count the value v (a negative one as 0): a few
 * comparisons, no allocation, no formatting.
 */
void metrics_hist_observe(struct metrics_hist *h, double v);

/*
 * metrics_begin - open the temporary file for path (which it copies).
 * Returns 0, or -1 with a sentence naming the directory in err.
 */
int metrics_begin(struct metrics_writer *w, const char *path, char *err, size_t errlen);

/*
 * metrics_family - the HELP and TYPE lines of the family name; type is
 * "counter", "gauge" or "histogram"; help is one line of plain text (no
 * backslash, no newline).
 */
void metrics_family(struct metrics_writer *w, const char *name, const char *type, const char *help);

/* metrics_u64 - one sample of name with labels (NULL: none) and the integer v. */
void metrics_u64(struct metrics_writer *w, const char *name, const char *const *labels, uint64_t v);

/* metrics_gauge - one sample of name with labels (NULL: none) and v, to the millisecond. */
void metrics_gauge(struct metrics_writer *w, const char *name, const char *const *labels, double v);

/*
 * metrics_histogram - the samples of histogram h under name with labels:
 * name_bucket with cumulative counts for each bound and le="+Inf", then
 * name_sum and name_count. At most 8 label pairs.
 */
void metrics_histogram(struct metrics_writer *w, const char *name, const char *const *labels,
                       const struct metrics_hist *h);

/*
 * metrics_queue - the broker's counts of a queue as the three gauges both
 * tools write, scanmove_queue_messages (ready), scanmove_queue_consumers
 * and scanmove_queue_dead_letter_messages (in <queue>.dead), with labels.
 */
void metrics_queue(struct metrics_writer *w, const char *const *labels, uint32_t messages,
                   uint32_t consumers, uint32_t dead);

/*
 * metrics_reconnects - the family scanmove_broker_reconnects_total and its
 * one sample n, labelled tool ("scan" or "move"), queue and worker.
 */
void metrics_reconnects(struct metrics_writer *w, const char *tool, const char *queue,
                        const char *worker, uint64_t n);

/*
 * metrics_commit - finish: flush, fsync, close and rename the temporary
 * over the target. Returns 0, or -1 with a sentence in err (the temporary
 * is removed, the target left as it was).
 */
int metrics_commit(struct metrics_writer *w, char *err, size_t errlen);

/* metrics_abort - close and remove the temporary (after metrics_begin, instead of commit). */
void metrics_abort(struct metrics_writer *w);

/*
 * metrics_read_value - the value of the first sample of name (with any
 * labels) in the metrics file path, for a gauge that must survive the
 * rewrite of its file by a later run. Returns 1 with *v set, 0 when the
 * file or the sample is missing or unreadable.
 */
int metrics_read_value(const char *path, const char *name, double *v);

/*
 * metrics_worker - the base name of path without its ".prom" suffix, into
 * out (outlen bytes, truncated): the "worker" label, which tells apart the
 * files of several processes in one textfile directory.
 */
void metrics_worker(const char *path, char *out, size_t outlen);

#endif
