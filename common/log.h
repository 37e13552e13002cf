/*
 * log.h - diagnostics on stderr (or a --log-file), every line with its
 * level, and the one live progress line a tool may keep at the bottom of a
 * terminal.
 *
 * Formats: text, "prog: LEVEL: message" (LEVEL one of error, warning,
 * notice, info, debug); or JSON, one object per line with the members
 * time, level, tool, pid, event, message and, where they apply, id,
 * root (or root_b64), path (or path_b64) and reason. When stderr is the
 * journal ($JOURNAL_STREAM names its device and inode) and the log goes
 * there, every line starts with journald's "<N>" priority prefix.
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
 * enum log_sev - the level of one line; the values are syslog's
 * priorities, as the journal's "<N>" prefix shows them.
 */
enum log_sev {
    LOG_SEV_ERROR = 3,
    LOG_SEV_WARNING = 4,
    LOG_SEV_NOTICE = 5,
    LOG_SEV_INFO = 6,
    LOG_SEV_DEBUG = 7
};

enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 };

/* log_set_format - text (the default) or JSON lines. */
void log_set_format(enum log_format format);

/*
 * log_set_output - write to out instead of stderr (NULL: stderr again), and
 * take it for a terminal when terminal is 1, not when 0, or ask isatty(3)
 * when -1. A test seam: the tools never call it. Forgets any progress line.
 */
void log_set_output(FILE *out, int terminal);

/*
 * log_open - append the log to the file path from now on (created with
 * mode 0640, O_APPEND so that several writers never overwrite each other),
 * instead of stderr; the progress line stays on stderr. Returns 0, or -1
 * with a sentence in err (the log goes on as before).
 */
int log_open(const char *path, char *err, size_t errlen);

/*
 * log_configure - the --log-format and --log-file settings: format, and
 * log_open(path) unless path is NULL or "". Returns 0, or -1 with
 * log_open's sentence in err.
 */
int log_configure(enum log_format format, const char *path, char *err, size_t errlen);

/*
 * log_reopen - close and open again the log_open file by its name, for
 * logrotate's SIGHUP; nothing when the log goes to stderr. On failure the
 * log goes on to the old file, and says so there (a warning).
 */
void log_reopen(void);

/* log_prog - the program name given to log_init ("scanmove" before it). */
const char *log_prog(void);

/*
 * log_tool - the tool's own name, "scan" or "move": the last word of the
 * program name ("scanmove move" when run through the scanmove command),
 * for the JSON lines' "tool" and the broker's connection names.
 */
const char *log_tool(void);

/*
 * log_error, log_notice, log_warn, log_info, log_debug - print one line
 * (see the formats above) when the level allows: errors always, notices
 * (summaries, dead letters) and warnings unless -q. A trailing newline is
 * added, and a progress line on the screen is erased first. Never fail: a
 * write error on the log is ignored. Their JSON event is "error" for
 * log_error and "log" for the others.
 */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * struct log_fields - what a JSON line tells besides its message. Every
 * member may be NULL (or 0): it is then left out. root and path are bytes
 * (root_len, path_len of them, not NUL-terminated): written as "root" and
 * "path" when they are UTF-8, else as "root_b64" and "path_b64" in base64.
 */
struct log_fields {
    const char *event; /* short kebab-case word: "moved", "rejected"; NULL: as log_error etc. */
    const char *id;    /* message id */
    const char *root;  /* scan root */
    size_t root_len;
    const char *path; /* relative to root */
    size_t path_len;
    const char *reason; /* kebab-case reason: "exists", "too-big" */
    int always;         /* print even under -q (the SIGUSR1 status line) */
};

/*
 * log_event - print one line of level sev, as log_error etc. do, with the
 * fields f (NULL: none) in its JSON form; the text form shows only the
 * message.
 */
void log_event(enum log_sev sev, const struct log_fields *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * log_format_line - the line a message of level sev would make (its
 * prefix, format and newline, as the log is set now) into out (outlen
 * bytes, always NUL-terminated, cut short when too long), for text that
 * goes to stderr by another way (the usage errors of tool.h). Returns its
 * length.
 */
size_t log_format_line(char *out, size_t outlen, enum log_sev sev, const char *message);

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
