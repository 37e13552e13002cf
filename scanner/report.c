/* report.c - outcomes, progress and summary of a scan; see report.h. */
#include "report.h"

#include "clock.h"
#include "log.h"
#include "msg.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* Every reason code scan can give; by_reason is indexed in this order. */
static const char *const reasons[] = {
    "excluded",      "hidden",           "too-small", "too-large",   "too-young",
    "too-old",       "mime-not-allowed", "symlink",   "not-regular", "unreadable",
    "too-deep",      "other-filesystem", "io-error",  "vanished",    "unreadable-dir",
    "path-too-long", "unconfirmed",      "nacked",    "unroutable",
};
#define N_REASONS (sizeof reasons / sizeof reasons[0])
#define FIRST_FAILURE 12 /* reasons from here on are failures */

void report_init(struct report *r)
{
    memset(r, 0, sizeof *r);
    r->start = mono_now();
}

static size_t reason_index(const char *reason)
{
    for (size_t i = 0; i < N_REASONS; i++)
        if (strcmp(reasons[i], reason) == 0)
            return i;
    return N_REASONS; /* not counted by reason; a bug if it happens */
}

uint64_t report_count(const struct report *r, const char *reason)
{
    size_t i = reason_index(reason);
    return i < N_REASONS ? r->by_reason[i] : 0;
}

void report_outcome(struct report *r, enum report_outcome o, const char *root, size_t root_len,
                    const char *path, size_t path_len, const char *reason, const char *detail,
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
    else
        r->failed++;
    size_t i = reason_index(reason);
    if (i < N_REASONS)
        r->by_reason[i]++;
    const char *what = o == REPORT_REJECTED ? "rejected" : "failed";
    /* Failures get a line on stderr even without -v, as find(1) does:
     * they make the exit status 1. Unconfirmed ones are summed up by the
     * sentence about the lost broker instead of one line each. */
    int say = r->verbose || (o == REPORT_FAILED && strcmp(reason, "unconfirmed") != 0);
    char line[MSG_MAX_BYTES];
    size_t len;
    if ((r->rejects != NULL || say) &&
        msg_encode_report(root, root_len, path, path_len, what, reason, detail, line, sizeof line,
                          &len) == 0) {
        if (r->rejects != NULL && !r->rejects_error) {
            line[len] = '\n';
            if (fwrite(line, 1, len + 1, r->rejects) != len + 1)
                r->rejects_error = errno ? errno : EIO;
            line[len] = '\0';
        }
        if (say)
            log_error("%s: %s", what, line);
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

void report_finish(struct report *r)
{
    log_progress_clear();
    double secs = mono_now() - r->start;
    log_notice("%llu files: %llu %s, %llu rejected, %llu failed in %.2f s (%.0f files/s)",
               (unsigned long long)r->files, (unsigned long long)r->published,
               r->dry_run ? "would be published" : "published", (unsigned long long)r->rejected,
               (unsigned long long)r->failed, secs, secs > 0 ? (double)r->files / secs : 0.0);
}

static void json_counts(const struct report *r, FILE *out, size_t from, size_t to)
{
    int first = 1;
    fputc('{', out);
    for (size_t i = from; i < to; i++) {
        if (r->by_reason[i] == 0)
            continue;
        fprintf(out, "%s\"%s\":%llu", first ? "" : ",", reasons[i],
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
            "\"rejected_by_reason\":",
            (unsigned long long)r->files, (unsigned long long)r->published,
            (unsigned long long)r->rejected, (unsigned long long)r->failed,
            (unsigned long long)r->bytes, secs, secs > 0 ? (double)r->files / secs : 0.0,
            r->dry_run ? "true" : "false");
    json_counts(r, out, 0, FIRST_FAILURE);
    fputs(",\"failed_by_reason\":", out);
    json_counts(r, out, FIRST_FAILURE, N_REASONS);
    fputs("}\n", out);
}
