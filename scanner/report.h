/*
 * report.h - what scan tells the user: one outcome per entry, counted by
 * reason, written to --rejects, a live progress line on a terminal, and
 * the summary at the end (a line on stderr, or JSON on stdout).
 * Used from the main thread only.
 */
#ifndef SCANMOVE_REPORT_H
#define SCANMOVE_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "reason.h"

/* REPORT_QUEUED: left out because its message is still waiting
 * (SCAN_REASON_ALREADY_QUEUED); neither a rejection nor a failure. */
enum report_outcome { REPORT_PUBLISHED, REPORT_REJECTED, REPORT_FAILED, REPORT_QUEUED };

struct report {
    FILE *rejects; /* --rejects, or NULL */
    int progress;  /* draw the live line (log_progress_enabled()) */
    int verbose;   /* one stderr line per rejected or failed entry */
    int dry_run;
    uint64_t files, published, rejected, failed, bytes, queued;
    uint64_t marks_failed; /* confirmed files whose mark could not be written */
    int mark_errno;        /* why the first one failed */
    int have_queue;        /* the queue's counts below are known */
    uint32_t queue_messages, queue_consumers, queue_dead;
    uint64_t reconnects;  /* the publisher's connections made again (publish_opts) */
    const char *queue;    /* its name, for the summary */
    const char *checksum; /* --checksum's algorithm, for the summary; NULL: none */
    uint64_t by_reason[SCAN_REASON_COUNT];
    double start, last_draw;
    int rejects_error; /* writing --rejects failed (errno kept) */
};

/* report_init - zero r and note the start time. */
void report_init(struct report *r);

/*
 * report_outcome - count one entry's outcome. For rejected and failed
 * entries, root/path (bytes) and reason go to --rejects as a JSON line,
 * with detail when not NULL; published ones have SCAN_REASON_NONE. size
 * counts for published files.
 */
void report_outcome(struct report *r, enum report_outcome o, const char *root, size_t root_len,
                    const char *path, size_t path_len, enum scan_reason reason, const char *detail,
                    uint64_t size);

/* report_progress - redraw the progress line when due (every 200 ms), or now when force. */
void report_progress(struct report *r, int force);

/* report_status_line - one line of the counts so far on stderr (level
 * notice, shown even under -q), as SIGUSR1 asks for. */
void report_status_line(const struct report *r);

/* report_finish - clear the progress line, print the summary line (unless -q). */
void report_finish(struct report *r);

/* report_json - print the summary as one JSON object and a newline on out. */
void report_json(const struct report *r, FILE *out);

/* report_count - how many entries got reason. */
uint64_t report_count(const struct report *r, enum scan_reason reason);

#endif
