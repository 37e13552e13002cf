/* log.c - diagnostics and the progress line on stderr or a log file; see log.h. */
#include "log.h"

#include "json_write.h"
#include "utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_ERASE "\r\033[K" /* to the start of the line, and clear it */
#define LOG_MESSAGE_MAX 2048 /* bytes of one message, cut short beyond */

static const char *log_name = "scanmove";
static enum log_level log_level_now = LOG_LEVEL_WARN;
static enum log_format log_format_now = LOG_FORMAT_TEXT;
static FILE *log_out;         /* NULL: stderr */
static int log_terminal = -1; /* -1: not asked yet */
static int log_drawn;         /* a progress line is on the screen */
static int log_journal = -1;  /* stderr is the journal; -1: not asked yet */
static int log_fd = -1;       /* the log_open file, or -1 */
static char *log_path;        /* its name, for log_reopen */

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

void log_set_format(enum log_format format)
{
    log_format_now = format;
}

void log_set_output(FILE *out, int terminal)
{
    log_out = out;
    log_terminal = terminal;
    log_drawn = 0;
}

/* Open path for appending; the descriptor or -1 with errno. */
static int open_log(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

int log_open(const char *path, char *err, size_t errlen)
{
    char *copy = strdup(path);
    int fd = copy != NULL ? open_log(path) : -1;
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the log file %s: %s", path,
                 copy != NULL ? strerror(errno) : "out of memory");
        free(copy);
        return -1;
    }
    if (log_fd >= 0)
        close(log_fd);
    free(log_path);
    log_fd = fd;
    log_path = copy;
    return 0;
}

int log_configure(enum log_format format, const char *path, char *err, size_t errlen)
{
    log_format_now = format;
    return path == NULL || path[0] == '\0' ? 0 : log_open(path, err, errlen);
}

void log_reopen(void)
{
    if (log_fd < 0)
        return;
    int fd = open_log(log_path);
    if (fd < 0) {
        log_warn("cannot open the log file %s again: %s; logging on to the old one", log_path,
                 strerror(errno));
        return;
    }
    /* Keep the descriptor's number: nothing else holds it, but a dup2
     * leaves no moment without a log. */
    if (dup2(fd, log_fd) < 0) {
        close(log_fd);
        log_fd = fd;
        return;
    }
    close(fd);
}

const char *log_prog(void)
{
    return log_name;
}

const char *log_tool(void)
{
    const char *space = strrchr(log_name, ' ');
    return space != NULL ? space + 1 : log_name;
}

static FILE *stream(void)
{
    return log_out != NULL ? log_out : stderr;
}

/* Does $JOURNAL_STREAM ("DEV:INO", see systemd.exec(5)) name stderr? */
static int stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    uintmax_t dev, ino;
    char tail;
    struct stat st;
    if (js == NULL || sscanf(js, "%" SCNuMAX ":%" SCNuMAX "%c", &dev, &ino, &tail) != 2)
        return 0;
    if (fstat(STDERR_FILENO, &st) < 0)
        return 0;
    return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

/* The "<N>" prefix goes only to the journal itself, not to a log file or
 * a test's stream. */
static int journal_prefix(void)
{
    if (log_fd >= 0 || log_out != NULL)
        return 0;
    if (log_journal < 0)
        log_journal = stderr_is_journal();
    return log_journal;
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

static const char *sev_name(enum log_sev sev)
{
    static const char *const names[] = {"error", "warning", "notice", "info", "debug"};
    return sev >= LOG_SEV_ERROR && sev <= LOG_SEV_DEBUG ? names[sev - LOG_SEV_ERROR] : "info";
}

/* The verbosity a line of level sev needs. */
static enum log_level sev_needs(enum log_sev sev)
{
    return sev == LOG_SEV_ERROR    ? LOG_LEVEL_QUIET
           : sev <= LOG_SEV_NOTICE ? LOG_LEVEL_WARN
           : sev == LOG_SEV_INFO   ? LOG_LEVEL_INFO
                                   : LOG_LEVEL_DEBUG;
}

/* s (n bytes) with every byte that is not part of well-formed UTF-8
 * replaced by U+FFFD, into out (size bytes, NUL-terminated); its length. */
static size_t utf8_repair(char *out, size_t size, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t used = 0;
    for (size_t i = 0; i < n;) {
        size_t len = p[i] < 0x80 ? 1 : p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : p[i] >= 0xc0 ? 2 : 0;
        const char *piece = s + i;
        size_t step = len;
        if (len == 0 || len > n - i || !utf8_valid(p + i, len)) {
            piece = "\xef\xbf\xbd";
            len = 3;
            step = 1;
        }
        if (used + len >= size)
            break;
        memcpy(out + used, piece, len);
        used += len;
        i += step;
    }
    out[used] = '\0';
    return used;
}

/* "2026-11-30T14:35:20.123Z" into out (32 bytes). */
static void now_rfc3339(char out[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* The JSON object of one line (no newline) into w. */
static void json_line(struct json_write *w, enum log_sev sev, const struct log_fields *f,
                      const char *msg, size_t msg_len, int with_names)
{
    char now[32], num[24], fixed[3 * LOG_MESSAGE_MAX + 1];
    const char *event = f != NULL && f->event != NULL ? f->event
                        : sev == LOG_SEV_ERROR        ? "error"
                                                      : "log";
    now_rfc3339(now);
    json_write_open(w);
    json_write_key(w, "time");
    json_write_string(w, now, strlen(now));
    json_write_key(w, "level");
    json_write_string(w, sev_name(sev), strlen(sev_name(sev)));
    json_write_key(w, "tool");
    json_write_string(w, log_tool(), strlen(log_tool()));
    json_write_key(w, "pid");
    snprintf(num, sizeof num, "%ld", (long)getpid());
    json_write_raw(w, num);
    json_write_key(w, "event");
    json_write_string(w, event, strlen(event));
    json_write_key(w, "message");
    json_write_string(w, fixed, utf8_repair(fixed, sizeof fixed, msg, msg_len));
    if (f != NULL && f->id != NULL) {
        json_write_key(w, "id");
        json_write_string(w, fixed, utf8_repair(fixed, sizeof fixed, f->id, strlen(f->id)));
    }
    if (f != NULL && f->root != NULL && with_names)
        json_write_bytes(w, "root", "root_b64", f->root, f->root_len);
    if (f != NULL && f->path != NULL && with_names)
        json_write_bytes(w, "path", "path_b64", f->path, f->path_len);
    if (f != NULL && f->reason != NULL) {
        json_write_key(w, "reason");
        json_write_string(w, f->reason, strlen(f->reason));
    }
    json_write_close(w);
}

/* The whole line for msg (msg_len bytes) into out (outlen > 8 bytes), with
 * its newline and NUL; its length. */
static size_t make_line(char *out, size_t outlen, enum log_sev sev, const struct log_fields *f,
                        const char *msg, size_t msg_len)
{
    size_t used = 0;
    if (journal_prefix())
        used = (size_t)snprintf(out, outlen, "<%d>", (int)sev);
    if (log_format_now == LOG_FORMAT_JSON) {
        struct json_write w;
        size_t len = 0;
        for (int names = 1; names >= 0; names--) {
            json_write_init(&w, out + used, outlen - used - 1);
            json_line(&w, sev, f, msg, msg_len, names);
            if (json_write_finish(&w, &len) == 0)
                break; /* else too long: again without the names */
        }
        used += len;
    } else {
        int n = snprintf(out + used, outlen - used, "%s: %s: %.*s", log_name, sev_name(sev),
                         (int)msg_len, msg);
        used += n < 0 ? 0 : (size_t)n < outlen - used - 1 ? (size_t)n : outlen - used - 2;
    }
    out[used++] = '\n';
    out[used] = '\0';
    return used;
}

size_t log_format_line(char *out, size_t outlen, enum log_sev sev, const char *message)
{
    char line[4 * LOG_MESSAGE_MAX];
    size_t len = make_line(line, sizeof line, sev, NULL, message, strlen(message));
    snprintf(out, outlen, "%s", line);
    return len < outlen ? len : outlen - 1;
}

/* Format the whole line first and write it at once, so that concurrent
 * writers (threads, or several movers sharing a journal or a file) never
 * interleave within a line. */
static void log_emit(enum log_sev sev, const struct log_fields *f, const char *fmt, va_list ap)
{
    char msg[LOG_MESSAGE_MAX], line[32768];
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    if (n < 0)
        return;
    size_t used = make_line(line, sizeof line, sev, f, msg,
                            (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    if (log_fd >= 0) {
        ssize_t w = write(log_fd, line, used);
        (void)w; /* a log that cannot be written has no one to tell */
        return;
    }
    log_progress_clear();
    fputs(line, stream());
}

void log_event(enum log_sev sev, const struct log_fields *f, const char *fmt, ...)
{
    if (log_level_now < sev_needs(sev) && (f == NULL || !f->always))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_emit(sev, f, fmt, ap);
    va_end(ap);
}

void log_progress(const char *fmt, ...)
{
    if (!log_progress_enabled())
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(line, sizeof line, "%s: ", log_name);
    if (n > 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stream(), LOG_ERASE "%s", line);
    log_drawn = 1;
}

#define LOG_DEFINE(fn, sev)                                                                        \
    void fn(const char *fmt, ...)                                                                  \
    {                                                                                              \
        if (log_level_now < sev_needs(sev))                                                        \
            return;                                                                                \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_emit(sev, NULL, fmt, ap);                                                              \
        va_end(ap);                                                                                \
    }

LOG_DEFINE(log_error, LOG_SEV_ERROR)
LOG_DEFINE(log_notice, LOG_SEV_NOTICE)
LOG_DEFINE(log_warn, LOG_SEV_WARNING)
LOG_DEFINE(log_info, LOG_SEV_INFO)
LOG_DEFINE(log_debug, LOG_SEV_DEBUG)
