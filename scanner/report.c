/* report.c - outcomes, progress and summary of a scan; see report.h. */
#include "report.h"

#include "clock.h"
#include "log.h"
#include "msg.h"
#include "rejects.h"

#include <errno.h>
#include <string.h>
#include <time.h>

void report_init(struct report *r)
{
    memset(r, 0, sizeof *r);
    r->start = mono_now();
}

uint64_t report_count(const struct report *r, enum scan_reason reason)
{
    return (unsigned)reason < SCAN_REASON_COUNT ? r->by_reason[reason] : 0;
}

void report_outcome(struct report *r, enum report_outcome o, const char *root, size_t root_len,
                    const char *path, size_t path_len, enum scan_reason reason, const char *detail,
                    uint64_t size)
{
    r->files++;
    if (o == REPORT_PUBLISHED) {
        r->published++;
        r->bytes += size;
        return;
    }
    if (o == REPORT_REJECTED)
        r->rejected++;
    else if (o == REPORT_QUEUED)
        r->queued++;
    else
        r->failed++;
    if ((unsigned)reason < SCAN_REASON_COUNT)
        r->by_reason[reason]++;
    const char *what = o == REPORT_REJECTED ? "rejected" : o == REPORT_QUEUED ? "queued" : "failed";
    /* Failures get a line on stderr even without -v, as find(1) does:
     * they make the exit status 1. Unconfirmed ones are summed up by the
     * sentence about the lost broker instead of one line each. */
    int say = r->verbose || (o == REPORT_FAILED && reason != SCAN_REASON_UNCONFIRMED);
    char line[MSG_MAX_BYTES];
    size_t len;
    if ((r->rejects != NULL || say) &&
        rejects_encode(root, root_len, path, path_len, what, scan_reason_name(reason), detail, line,
                       sizeof line, &len) == 0) {
        if (r->rejects != NULL && !r->rejects_error) {
            line[len] = '\n';
            if (fwrite(line, 1, len + 1, r->rejects) != len + 1)
                r->rejects_error = errno ? errno : EIO;
            line[len] = '\0';
        }
        if (say) /* a rejection is no error: only -v shows it */
            log_event(o == REPORT_FAILED ? LOG_SEV_ERROR : LOG_SEV_INFO,
                      &(struct log_fields){.event = what,
                                           .root = root,
                                           .root_len = root_len,
                                           .path = path,
                                           .path_len = path_len,
                                           .reason = scan_reason_name(reason)},
                      "%s: %s", what, line);
    }
}

void report_progress(struct report *r, int force)
{
    if (!r->progress)
        return;
    double now = mono_now();
    if (!force && now - r->last_draw < 0.2)
        return;
    r->last_draw = now;
    double secs = now - r->start;
    log_progress("%llu files, %llu %s, %llu rejected, %llu failed, %.0f files/s",
                 (unsigned long long)r->files, (unsigned long long)r->published,
                 r->dry_run ? "to publish" : "published", (unsigned long long)r->rejected,
                 (unsigned long long)r->failed, secs > 0 ? (double)r->files / secs : 0.0);
}

void report_status_line(const struct report *r)
{
    double secs = mono_now() - r->start;
    log_event(LOG_SEV_NOTICE, &(struct log_fields){.event = "status", .always = 1},
              "%llu files so far: %llu %s, %llu rejected, %llu failed in %.0f s (%.0f files/s)",
              (unsigned long long)r->files, (unsigned long long)r->published,
              r->dry_run ? "would be published" : "published", (unsigned long long)r->rejected,
              (unsigned long long)r->failed, secs, secs > 0 ? (double)r->files / secs : 0.0);
}

void report_finish(struct report *r)
{
    log_progress_clear();
    double secs = mono_now() - r->start;
    char queued[64] = "";
    if (r->queued > 0)
        snprintf(queued, sizeof queued, ", %llu already queued", (unsigned long long)r->queued);
    log_event(LOG_SEV_NOTICE, &(struct log_fields){.event = "summary"},
              "%llu files: %llu %s%s, %llu rejected, %llu failed in %.2f s (%.0f files/s)",
              (unsigned long long)r->files, (unsigned long long)r->published,
              r->dry_run ? "would be published" : "published", queued,
              (unsigned long long)r->rejected, (unsigned long long)r->failed, secs,
              secs > 0 ? (double)r->files / secs : 0.0);
    if (r->marks_failed > 0)
        log_warn("could not mark %llu published file%s as queued (%s): the next scan publishes "
                 "%s again",
                 (unsigned long long)r->marks_failed, r->marks_failed == 1 ? "" : "s",
                 strerror(r->mark_errno), r->marks_failed == 1 ? "it" : "them");
    if (r->have_queue && r->queue_consumers == 0 && r->queue_messages > 0)
        log_warn("queue '%s' holds %lu message%s and has no consumers: nothing moves them until "
                 "a mover runs",
                 r->queue, (unsigned long)r->queue_messages, r->queue_messages == 1 ? "" : "s");
}

/* The counts of the failures (failures = 1) or of the rejections, in enum order. */
static void json_counts(const struct report *r, FILE *out, int failures)
{
    int first = 1;
    fputc('{', out);
    for (enum scan_reason i = SCAN_REASON_NONE + 1; i < SCAN_REASON_COUNT; i++) {
        if (r->by_reason[i] == 0 || scan_reason_is_failure(i) != failures ||
            i == SCAN_REASON_ALREADY_QUEUED) /* counted apart: already_queued */
            continue;
        fprintf(out, "%s\"%s\":%llu", first ? "" : ",", scan_reason_name(i),
                (unsigned long long)r->by_reason[i]);
        first = 0;
    }
    fputc('}', out);
}

void report_json(const struct report *r, FILE *out)
{
    double secs = mono_now() - r->start;
    fprintf(out,
            "{\"files\":%llu,\"published\":%llu,\"rejected\":%llu,\"failed\":%llu,"
            "\"bytes\":%llu,\"seconds\":%.3f,\"files_per_second\":%.1f,\"dry_run\":%s,"
            "\"already_queued\":%llu,\"marks_failed\":%llu,",
            (unsigned long long)r->files, (unsigned long long)r->published,
            (unsigned long long)r->rejected, (unsigned long long)r->failed,
            (unsigned long long)r->bytes, secs, secs > 0 ? (double)r->files / secs : 0.0,
            r->dry_run ? "true" : "false", (unsigned long long)r->queued,
            (unsigned long long)r->marks_failed);
    if (r->checksum != NULL)
        fprintf(out, "\"checksum\":\"%s\",", r->checksum);
    if (r->have_queue)
        fprintf(out, "\"queue_messages\":%lu,\"queue_consumers\":%lu,",
                (unsigned long)r->queue_messages, (unsigned long)r->queue_consumers);
    fputs("\"rejected_by_reason\":", out);
    json_counts(r, out, 0);
    fputs(",\"failed_by_reason\":", out);
    json_counts(r, out, 1);
    fputs("}\n", out);
}
