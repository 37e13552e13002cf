/* log.c - diagnostics on stderr; see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static const char *log_name = "scanmove";
static enum log_level log_level_now = LOG_LEVEL_WARN;
static void (*log_hook)(void);

void log_init(const char *prog, enum log_level level)
{
    if (prog != NULL)
        log_name = prog;
    log_level_now = level;
}

void log_set_level(enum log_level level)
{
    log_level_now = level;
}

enum log_level log_get_level(void)
{
    return log_level_now;
}

void log_set_before(void (*hook)(void))
{
    log_hook = hook;
}

const char *log_prog(void)
{
    return log_name;
}

/* Format the whole line first, so that concurrent writers (threads, or
 * several movers sharing a journal) never interleave within a line. */
static void log_emit(const char *fmt, va_list ap)
{
    char line[2048];
    int n = snprintf(line, sizeof line, "%s: ", log_name);
    if (n < 0)
        return;
    size_t used = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    int m = vsnprintf(line + used, sizeof line - used, fmt, ap);
    if (m < 0)
        return;
    used += (size_t)m < sizeof line - used ? (size_t)m : sizeof line - used - 1;
    if (used >= sizeof line - 1)
        used = sizeof line - 2;
    line[used++] = '\n';
    line[used] = '\0';
    if (log_hook != NULL)
        log_hook();
    fputs(line, stderr);
}

#define LOG_DEFINE(fn, lvl)                                                                        \
    void fn(const char *fmt, ...)                                                                  \
    {                                                                                              \
        if (log_level_now < (lvl))                                                                 \
            return;                                                                                \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_emit(fmt, ap);                                                                         \
        va_end(ap);                                                                                \
    }

LOG_DEFINE(log_error, LOG_LEVEL_QUIET)
LOG_DEFINE(log_warn, LOG_LEVEL_WARN)
LOG_DEFINE(log_info, LOG_LEVEL_INFO)
LOG_DEFINE(log_debug, LOG_LEVEL_DEBUG)
