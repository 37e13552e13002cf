/* log.c - diagnostics and the progress line on stderr; see log.h. */
#include "log.h"

#include <stdarg.h>
#include <unistd.h>

#define LOG_ERASE "\r\033[K" /* to the start of the line, and clear it */

static const char *log_name = "scanmove";
static enum log_level log_level_now = LOG_LEVEL_WARN;
static FILE *log_out;         /* NULL: stderr */
static int log_terminal = -1; /* -1: not asked yet */
static int log_drawn;         /* a progress line is on the screen */

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

void log_set_output(FILE *out, int terminal)
{
    log_out = out;
    log_terminal = terminal;
    log_drawn = 0;
}

void log_reopen(void)
{
    /* XXX: the logs helper's */
}

const char *log_prog(void)
{
    return log_name;
}

static FILE *stream(void)
{
    return log_out != NULL ? log_out : stderr;
}

int log_progress_enabled(void)
{
    if (log_terminal < 0)
        log_terminal = isatty(fileno(stream())) ? 1 : 0;
    return log_terminal && log_level_now > LOG_LEVEL_QUIET;
}

void log_progress_clear(void)
{
    if (log_drawn)
        fputs(LOG_ERASE, stream());
    log_drawn = 0;
}

/* Format "prog: text" into line (size bytes), cut short when too long. */
static size_t format_line(char *line, size_t size, const char *fmt, va_list ap)
{
    int n = snprintf(line, size, "%s: ", log_name);
    if (n < 0)
        return 0;
    size_t used = (size_t)n < size ? (size_t)n : size - 1;
    int m = vsnprintf(line + used, size - used, fmt, ap);
    if (m < 0)
        return 0;
    used += (size_t)m < size - used ? (size_t)m : size - used - 1;
    return used;
}

/* Format the whole line first, so that concurrent writers (threads, or
 * several movers sharing a journal) never interleave within a line. */
static void log_emit(const char *fmt, va_list ap)
{
    char line[2048];
    size_t used = format_line(line, sizeof line, fmt, ap);
    if (used == 0)
        return;
    if (used >= sizeof line - 1)
        used = sizeof line - 2;
    line[used++] = '\n';
    line[used] = '\0';
    log_progress_clear();
    fputs(line, stream());
}

void log_progress(const char *fmt, ...)
{
    if (!log_progress_enabled())
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    size_t used = format_line(line, sizeof line, fmt, ap);
    va_end(ap);
    if (used == 0)
        return;
    fprintf(stream(), LOG_ERASE "%s", line);
    log_drawn = 1;
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
LOG_DEFINE(log_notice, LOG_LEVEL_WARN)
LOG_DEFINE(log_warn, LOG_LEVEL_WARN)
LOG_DEFINE(log_info, LOG_LEVEL_INFO)
LOG_DEFINE(log_debug, LOG_LEVEL_DEBUG)
