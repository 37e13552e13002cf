/*
 * log.h - diagnostics on stderr, as "prog: message".
 *
 * The only place that writes diagnostics. Library modules never call it:
 * they return a status and fill an error buffer, and the tools' front ends
 * decide what to print. stdout is never written here: it carries data.
 */
#ifndef SCANMOVE_LOG_H
#define SCANMOVE_LOG_H

enum log_level {
    LOG_LEVEL_QUIET = 0, /* errors only */
    LOG_LEVEL_WARN = 1,  /* plus warnings (the default) */
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
 * log_set_before - call hook before each line is written (NULL: none), e.g.
 * to clear a progress line on a terminal. Single-threaded callers only.
 */
void log_set_before(void (*hook)(void));

/* log_prog - the program name given to log_init ("scanmove" before it). */
const char *log_prog(void);

/*
 * log_error, log_warn, log_info, log_debug - print one line "prog: text" to
 * stderr when the level allows (errors always print). A trailing newline is
 * added. Never fail: a write error on stderr is ignored.
 */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
