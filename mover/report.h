/*
 * report.h - what move tells the user: a live progress line on a terminal,
 * and the summary at the end (a line on stderr, or JSON on stdout), for
 * the delivery loop and for --requeue-dead. Used from the main thread only.
 */
#ifndef SCANMOVE_MOVER_REPORT_H
#define SCANMOVE_MOVER_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "consume.h"

/*
 * report_progress - the consume_opts progress hook: redraw the progress
 * line at most once a second (nothing unless log_progress_enabled()), or
 * clear it when last.
 */
void report_progress(const struct consume_stats *st, int last);

/*
 * report_node - note the broker node the mover is connected to (a
 * tool_describe_connection text, copied), for report_status_line.
 */
void report_node(const char *node);

/*
 * report_counts - "N moved, N duplicates, N skipped, N dead-lettered, N
 * requeued" from st into out (outlen bytes), as the progress line, the
 * status line and the service manager's STATUS= show them.
 */
void report_counts(char *out, size_t outlen, const struct consume_stats *st);

/* report_rate - files handled per second since st->start, at now (mono_now()). */
double report_rate(const struct consume_stats *st, double now);

/*
 * report_status_line - one line of the counts so far, the average rate and
 * the time running (since the first report_progress call), and the broker
 * node (report_node), on stderr (level notice, event "status", shown even
 * under -q, as dd does), as SIGUSR1 asks for.
 */
void report_status_line(const struct consume_stats *st);

/*
 * report_summary - print the counts of st and the rate over secs seconds
 * as one line on stderr (unless -q), and as one JSON object and a newline
 * on out when out is not NULL.
 */
void report_summary(const struct consume_stats *st, double secs, FILE *out);

/*
 * report_escape - the n bytes of a file name at s, written into out
 * (outlen > 0 bytes; always NUL-terminated, cut short before an escape
 * that does not fit) as one log line can show them: printable ASCII,
 * spaces and well-formed UTF-8 as they are; a backslash as "\\"; and
 * control characters (C0, DEL, C1) and bytes that are not UTF-8 as ls -b
 * writes them, "\n", "\t" ... or "\ooo" in octal. A name can then
 * neither break a line in two nor send a terminal an escape sequence.
 */
void report_escape(char *out, size_t outlen, const char *s, size_t n);

/*
 * report_file - the file m names, "ROOT/PATH", escaped as report_escape
 * does, into out (outlen >= 16 bytes): when longer than outlen - 1 bytes,
 * its middle is cut out and replaced by "...", so that the log line it goes
 * into (at most 2 KiB) keeps what follows the name.
 */
void report_file(char *out, size_t outlen, const struct msg *m);

#endif
