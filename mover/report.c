/* report.c - progress and summary of a move run; see report.h. */
#include "report.h"

#include "clock.h"
#include "log.h"

static double progress_last;
static uint64_t progress_done_last;

static uint64_t handled(const struct consume_stats *st)
{
    return st->moved + st->skipped + st->duplicates + st->dead;
}

/* Redraw at most once a second: the counts so far and the rate of the last
 * second (a worker runs for days; an average since start says little). */
void report_progress(const struct consume_stats *st, int last)
{
    if (last) {
        log_progress_clear();
        return;
    }
    if (!log_progress_enabled())
        return;
    double now = mono_now();
    if (progress_last == 0) {
        progress_last = now;
        return;
    }
    if (now - progress_last < 1.0)
        return;
    uint64_t done = handled(st);
    double rate = (double)(done - progress_done_last) / (now - progress_last);
    progress_last = now;
    progress_done_last = done;
    log_progress("%llu moved, %llu duplicates, %llu skipped, %llu dead-lettered, %llu requeued, "
                 "%.0f files/s",
                 (unsigned long long)st->moved, (unsigned long long)st->duplicates,
                 (unsigned long long)st->skipped, (unsigned long long)st->dead,
                 (unsigned long long)st->requeued, rate);
}

void report_summary(const struct consume_stats *st, double secs, FILE *out)
{
    double rate = secs > 0 ? (double)handled(st) / secs : 0.0;
    log_notice("%llu moved, %llu skipped, %llu duplicates, %llu dead-lettered, %llu requeued "
               "in %.2f s (%.0f files/s)",
               (unsigned long long)st->moved, (unsigned long long)st->skipped,
               (unsigned long long)st->duplicates, (unsigned long long)st->dead,
               (unsigned long long)st->requeued, secs, rate);
    if (out == NULL)
        return;
    const struct {
        const char *name;
        uint64_t n;
    } counts[] = {{"moved", st->moved},
                  {"skipped", st->skipped},
                  {"duplicates", st->duplicates},
                  {"dead_lettered", st->dead},
                  {"requeued", st->requeued}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        fprintf(out, "%c\"%s\":%llu", i ? ',' : '{', counts[i].name,
                (unsigned long long)counts[i].n);
    fprintf(out, ",\"seconds\":%.3f,\"files_per_second\":%.1f,\"dead_by_reason\":{", secs, rate);
    for (unsigned i = 0; i < st->n_seen; i++)
        fprintf(out, "%s\"%s\":%llu", i ? "," : "", move_reason_name(st->seen[i]),
                (unsigned long long)st->by_reason[st->seen[i]]);
    fputs("}}\n", out);
}

void report_requeued(uint64_t n, const struct cfg *c, FILE *out)
{
    log_notice("requeued %llu dead letters from '%s.dead' to exchange '%s'", (unsigned long long)n,
               c->queue, c->exchange);
    if (out != NULL)
        fprintf(out, "{\"requeued_dead\":%llu}\n", (unsigned long long)n);
}
