/*
 * log.h - diagnostics on stderr, as "prog: message", and the one live
 * progress line a tool may keep at the bottom of a terminal.
 *
 * The only place that writes diagnostics. Library modules never call it:
 * they return a status and fill an error buffer, and the tools' front ends
 * decide what to print. stdout is never written here: it carries data.
 * Because the progress line lives here too, every diagnostic line erases
 * it first, whoever prints the line.
 */
#ifndef SCANMOVE_LOG_H
#define SCANMOVE_LOG_H

#include <stdio.h>

enum log_level {
    LOG_LEVEL_QUIET = 0, /* errors only */
    LOG_LEVEL_WARN = 1,  /* plus warnings and summaries (the default) */
    LOG_LEVEL_INFO = 2,  /* plus one line per notable event (-v) */
    LOG_LEVEL_DEBUG = 3  /* plus protocol detail (-vv) */
};

/*
 * log_init - set the program name shown before every line (a static string,
 * not copied) and the level. Call once from main before any other log_ call.
 */
void log_init(const char *prog, enum log_level level);

/* log_set_level - change the level, e.g. after parsing -q or -v. */
void log_set_level(enum log_level level);

/* log_get_level - the level in force. */
enum log_level log_get_level(void);

/*
 * log_set_output - write to out instead of stderr (NULL: stderr again), and
 * take it for a terminal when terminal is 1, not when 0, or ask isatty(3)
 * when -1. A test seam: the tools never call it. Forgets any progress line.
 */
void log_set_output(FILE *out, int terminal);

/*
 * log_reopen - close and open again the --log-file (log_open), for
 * logrotate's SIGHUP; nothing when the log goes to stderr. On failure the
 * log goes on to the old file.
 */
void log_reopen(void);

/* log_prog - the program name given to log_init ("scanmove" before it). */
const char *log_prog(void);

/*
 * log_error, log_notice, log_warn, log_info, log_debug - print one line
 * "prog: text" to stderr when the level allows: errors always, notices
 * (summaries, dead letters) and warnings unless -q. A trailing newline is
 * added, and a progress line on the screen is erased first. Never fail: a
 * write error on stderr is ignored.
 */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * log_progress_enabled - 1 when progress lines are drawn: stderr is a
 * terminal and the level is above LOG_LEVEL_QUIET; else 0.
 */
int log_progress_enabled(void);

/*
 * log_progress - replace the progress line with "prog: text" (no newline),
 * when log_progress_enabled(); else do nothing. Main thread only, as for
 * every log_ call while a progress line may be drawn.
 */
void log_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* log_progress_clear - erase the progress line, if one is drawn. */
void log_progress_clear(void);

#endif
