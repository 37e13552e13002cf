/* report.c - progress and summary of a move run; see report.h. */
#include "report.h"

#include "clock.h"
#include "log.h"
#include "utf8.h"

#include <string.h>

static double progress_last;
static uint64_t progress_done_last;
static char broker_node[1024]; /* report_node's */

static uint64_t handled(const struct consume_stats *st)
{
    return st->moved + st->skipped + st->duplicates + st->dead;
}

void report_node(const char *node)
{
    snprintf(broker_node, sizeof broker_node, "%s", node);
}

void report_counts(char *out, size_t outlen, const struct consume_stats *st)
{
    snprintf(out, outlen,
             "%llu moved, %llu duplicates, %llu skipped, %llu dead-lettered, %llu requeued",
             (unsigned long long)st->moved, (unsigned long long)st->duplicates,
             (unsigned long long)st->skipped, (unsigned long long)st->dead,
             (unsigned long long)st->requeued);
}

double report_rate(const struct consume_stats *st, double now)
{
    double secs = now - st->start;
    return st->start > 0 && secs > 0 ? (double)handled(st) / secs : 0.0;
}

void report_status_line(const struct consume_stats *st)
{
    char counts[160];
    double now = mono_now();
    report_counts(counts, sizeof counts, st);
    log_event(LOG_SEV_NOTICE, &(struct log_fields){.event = "status", .always = 1},
              "%s in %.0f s (%.0f files/s); %s%s", counts, st->start > 0 ? now - st->start : 0,
              report_rate(st, now), broker_node[0] ? "broker " : "not connected", broker_node);
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
    char counts[160];
    report_counts(counts, sizeof counts, st);
    log_progress("%s, %.0f files/s", counts, rate);
}

void report_summary(const struct consume_stats *st, double secs, FILE *out)
{
    double rate = secs > 0 ? (double)handled(st) / secs : 0.0;
    log_event(LOG_SEV_NOTICE, &(struct log_fields){.event = "summary"},
              "%llu moved, %llu skipped, %llu duplicates, %llu dead-lettered, %llu requeued "
              "in %.2f s (%.0f files/s)",
              (unsigned long long)st->moved, (unsigned long long)st->skipped,
              (unsigned long long)st->duplicates, (unsigned long long)st->dead,
              (unsigned long long)st->requeued, secs, rate);
    if (st->meta_lost > 0)
        log_warn("%llu file%s moved without some of %s extended attributes or ACLs, which the "
                 "destination refused",
                 (unsigned long long)st->meta_lost, st->meta_lost == 1 ? "" : "s",
                 st->meta_lost == 1 ? "its" : "their");
    if (out == NULL)
        return;
    const struct {
        const char *name;
        uint64_t n;
    } counts[] = {{"moved", st->moved},
                  {"skipped", st->skipped},
                  {"duplicates", st->duplicates},
                  {"dead_lettered", st->dead},
                  {"requeued", st->requeued},
                  {"verified", st->verified},
                  {"metadata_not_preserved", st->meta_lost},
                  {"pruned_dirs", st->pruned},
                  {"events_published", st->events}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        fprintf(out, "%c\"%s\":%llu", i ? ',' : '{', counts[i].name,
                (unsigned long long)counts[i].n);
    fprintf(out, ",\"seconds\":%.3f,\"files_per_second\":%.1f,\"dead_by_reason\":{", secs, rate);
    for (unsigned i = 0; i < st->n_seen; i++)
        fprintf(out, "%s\"%s\":%llu", i ? "," : "", move_reason_name(st->seen[i]),
                (unsigned long long)st->by_reason[st->seen[i]]);
    fputs("}}\n", out);
}

/* The length of the well-formed UTF-8 sequence of a printable character
 * (not a C1 control) starting at s, with n bytes left; 0 when there is
 * none. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    if (len == 0 || len > n || !utf8_valid(s, len))
        return 0;
    return s[0] == 0xc2 && s[1] < 0xa0 ? 0 : len; /* U+0080..U+009F */
}

void report_escape(char *out, size_t outlen, const char *s, size_t n)
{
    static const char shorts[] = "\\a\\b\\t\\n\\v\\f\\r"; /* for 7 .. 13 */
    const unsigned char *p = (const unsigned char *)s;
    size_t used = 0;
    for (size_t i = 0; i < n;) {
        char esc[5];
        const char *piece = esc;
        size_t len = utf8_char(p + i, n - i);
        if (len > 0) {
            piece = s + i;
        } else if (p[i] == '\\') {
            memcpy(esc, "\\\\", 2);
            len = 2;
        } else if (p[i] >= 7 && p[i] <= 13) {
            memcpy(esc, shorts + 2 * (p[i] - 7), 2);
            len = 2;
        } else if (p[i] < ' ' || p[i] >= 0x7f) {
            snprintf(esc, sizeof esc, "\\%03o", p[i]);
            len = 4;
        } else {
            piece = s + i;
            len = 1;
        }
        if (used + len >= outlen)
            break;
        memcpy(out + used, piece, len);
        used += len;
        i += piece == esc ? 1 : len;
    }
    out[used] = '\0';
}

/* Move *at back to the start of the UTF-8 character it is in. */
static size_t char_start(const char *s, size_t at)
{
    while (at > 0 && ((unsigned char)s[at] & 0xc0) == 0x80)
        at--;
    return at;
}

void report_file(char *out, size_t outlen, const struct msg *m)
{
    static char full[4 * (2 * MSG_PATH_MAX + 1) + 1];
    /* "/" + "a/b", not "//a/b" */
    size_t root_len = m->root_len == 1 && m->root[0] == '/' ? 0 : m->root_len;
    report_escape(full, sizeof full, m->root, root_len);
    size_t len = strlen(full);
    full[len++] = '/';
    report_escape(full + len, sizeof full - len, m->path, m->path_len);
    len += strlen(full + len);
    if (len < outlen) {
        memcpy(out, full, len + 1);
        return;
    }
    /* A third of the room for the start, the rest for the end: the file's
     * name is at the end. */
    size_t head = char_start(full, (outlen - 4) / 3);
    size_t tail = len - (outlen - 4 - head);
    while (tail < len && ((unsigned char)full[tail] & 0xc0) == 0x80)
        tail++;
    memcpy(out, full, head);
    memcpy(out + head, "...", 3);
    memcpy(out + head + 3, full + tail, len - tail + 1);
}
