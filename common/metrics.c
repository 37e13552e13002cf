/* metrics.c - the Prometheus text format, written atomically; see metrics.h. */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void metrics_hist_init(struct metrics_hist *h, const double *bounds, unsigned n)
{
    memset(h, 0, sizeof *h);
    h->bounds = bounds;
    h->n = n > METRICS_BUCKETS_MAX ? METRICS_BUCKETS_MAX : n;
}

void metrics_hist_observe(struct metrics_hist *h, double v)
{
    unsigned i = 0;
    if (!(v > 0)) /* a clock that went back, or NaN */
        v = 0;
    while (i < h->n && v > h->bounds[i])
        i++;
    h->counts[i]++;
    h->count++;
    h->sum += v;
}

int metrics_begin(struct metrics_writer *w, const char *path, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    if (strlen(path) >= sizeof w->path) {
        snprintf(err, errlen, "cannot write the metrics file %s: the name is too long", path);
        return -1;
    }
    snprintf(w->path, sizeof w->path, "%s", path);
    const char *slash = strrchr(path, '/');
    int dirlen = slash != NULL ? (int)(slash - path + 1) : 0;
    snprintf(w->tmp, sizeof w->tmp, "%.*s.%s.%ld.XXXXXX", dirlen, path,
             slash != NULL ? slash + 1 : path, (long)getpid());
    int fd = mkostemp(w->tmp, O_CLOEXEC);
    if (fd < 0 || fchmod(fd, 0644) < 0 || (w->f = fdopen(fd, "w")) == NULL) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(w->tmp);
        }
        snprintf(err, errlen,
                 "cannot write the metrics file %s: cannot create a temporary "
                 "file beside it: %s",
                 path, strerror(e));
        return -1;
    }
    return 0;
}

static void check(struct metrics_writer *w, int r)
{
    if (r < 0 && w->err == 0)
        w->err = errno ? errno : EIO;
}

void metrics_family(struct metrics_writer *w, const char *name, const char *type, const char *help)
{
    check(w, fprintf(w->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type));
}

/* name{a="x",b="y"} with the values escaped, or name alone; extra is one
 * more pair (the histogram's le), or NULL. */
static void head(struct metrics_writer *w, const char *name, const char *suffix,
                 const char *const *labels, const char *extra_name, const char *extra)
{
    check(w, fprintf(w->f, "%s%s", name, suffix));
    int any = 0;
    for (unsigned i = 0; labels != NULL && labels[i] != NULL && labels[i + 1] != NULL; i += 2) {
        check(w, fprintf(w->f, "%s%s=\"", any ? "," : "{", labels[i]));
        for (const char *c = labels[i + 1]; *c != '\0'; c++) {
            const char *esc = *c == '\\' ? "\\\\" : *c == '"' ? "\\\"" : *c == '\n' ? "\\n" : NULL;
            check(w, esc != NULL ? fputs(esc, w->f) : fputc(*c, w->f));
        }
        check(w, fputc('"', w->f));
        any = 1;
    }
    if (extra_name != NULL)
        check(w, fprintf(w->f, "%s%s=\"%s\"", any ? "," : "{", extra_name, extra));
    if (any || extra_name != NULL)
        check(w, fputc('}', w->f));
}

void metrics_u64(struct metrics_writer *w, const char *name, const char *const *labels, uint64_t v)
{
    head(w, name, "", labels, NULL, NULL);
    check(w, fprintf(w->f, " %llu\n", (unsigned long long)v));
}

void metrics_gauge(struct metrics_writer *w, const char *name, const char *const *labels, double v)
{
    head(w, name, "", labels, NULL, NULL);
    check(w, fprintf(w->f, " %.3f\n", v));
}

void metrics_histogram(struct metrics_writer *w, const char *name, const char *const *labels,
                       const struct metrics_hist *h)
{
    uint64_t cum = 0;
    char le[32];
    for (unsigned i = 0; i <= h->n; i++) {
        cum += h->counts[i];
        if (i < h->n)
            snprintf(le, sizeof le, "%g", h->bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        head(w, name, "_bucket", labels, "le", le);
        check(w, fprintf(w->f, " %llu\n", (unsigned long long)cum));
    }
    head(w, name, "_sum", labels, NULL, NULL);
    check(w, fprintf(w->f, " %.3f\n", h->sum));
    head(w, name, "_count", labels, NULL, NULL);
    check(w, fprintf(w->f, " %llu\n", (unsigned long long)h->count));
}

void metrics_queue(struct metrics_writer *w, const char *const *labels, uint32_t messages,
                   uint32_t consumers, uint32_t dead)
{
    metrics_family(w, "scanmove_queue_messages", "gauge",
                   "Messages ready in the queue, as the broker last told this process.");
    metrics_u64(w, "scanmove_queue_messages", labels, messages);
    metrics_family(w, "scanmove_queue_consumers", "gauge",
                   "Consumers of the queue, as the broker last told this process.");
    metrics_u64(w, "scanmove_queue_consumers", labels, consumers);
    metrics_family(w, "scanmove_queue_dead_letter_messages", "gauge",
                   "Messages in the queue's dead-letter queue, as the broker last told this "
                   "process.");
    metrics_u64(w, "scanmove_queue_dead_letter_messages", labels, dead);
}

void metrics_reconnects(struct metrics_writer *w, const char *tool, const char *queue,
                        const char *worker, uint64_t n)
{
    const char *const l[] = {"tool", tool, "queue", queue, "worker", worker, NULL};
    metrics_family(w, "scanmove_broker_reconnects_total", "counter",
                   "Connections to the broker made again after one was lost.");
    metrics_u64(w, "scanmove_broker_reconnects_total", l, n);
}

int metrics_commit(struct metrics_writer *w, char *err, size_t errlen)
{
    if (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0)
        check(w, -1);
    if (fclose(w->f) != 0)
        check(w, -1);
    w->f = NULL;
    if (w->err == 0 && rename(w->tmp, w->path) != 0)
        check(w, -1);
    if (w->err == 0)
        return 0;
    unlink(w->tmp);
    snprintf(err, errlen, "cannot write the metrics file %s: %s", w->path, strerror(w->err));
    return -1;
}

void metrics_abort(struct metrics_writer *w)
{
    if (w->f == NULL)
        return;
    fclose(w->f);
    w->f = NULL;
    unlink(w->tmp);
}

/* The value of a sample line of name, or 0 when the line is another's. */
static int sample_value(const char *line, const char *name, double *v)
{
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0 || (line[n] != '{' && line[n] != ' '))
        return 0;
    const char *p = line + n;
    if (*p == '{') { /* skip the labels, whose values may hold '}' */
        int quoted = 0;
        for (p++; *p != '\0' && (quoted || *p != '}'); p++) {
            if (quoted && *p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '"')
                quoted = !quoted;
        }
        if (*p++ != '}')
            return 0;
    }
    char *end;
    errno = 0;
    double d = strtod(p, &end);
    if (end == p || errno != 0 || (*end != '\n' && *end != ' ' && *end != '\0'))
        return 0;
    *v = d;
    return 1;
}

int metrics_read_value(const char *path, const char *name, double *v)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f) != NULL)
        found = sample_value(line, name, v);
    fclose(f);
    return found;
}

void metrics_worker(const char *path, char *out, size_t outlen)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".prom") == 0)
        n -= 5;
    snprintf(out, outlen, "%.*s", (int)n, base);
}
