/* tool.c - shared front-end pieces; see tool.h. */
#include "tool.h"

#include "exitcode.h"
#include "log.h"
#include "mq.h"
#include "opts.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void tool_describe_connection(const struct mq *m, char *out, size_t outlen)
{
    const char *peer = mq_peer_address(m), *cluster = mq_cluster_name(m);
    snprintf(out, outlen, "%s (%s%s%s%s%s)", mq_display_url(m), peer, peer[0] ? ", " : "",
             mq_server_version(m), cluster[0] ? ", cluster " : "", cluster);
}

void tool_conn_name(const char *prog, char *out, size_t outlen)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    snprintf(out, outlen, "%s@%s:%ld", prog, host, (long)getpid());
}

/* Permission has its own status: "does not exist" would send an operator
 * looking for a typo, not at the mode or the user. */
static int open_dir_fail(const char *path, int e, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", path, e == ENOTDIR ? "not a directory" : strerror(e));
    return e == EACCES || e == EPERM ? EXITCODE_NOPERM : EXITCODE_NOINPUT;
}

int tool_open_dir(const char *path, int *fd, char **real, char *err, size_t errlen)
{
    int e;
    *real = NULL;
    *fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0)
        return open_dir_fail(path, errno, err, errlen);
    /* Looking up "." needs search permission, as every name beneath does. */
    int probe = openat(*fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (probe < 0)
        goto fail;
    close(probe);
    *real = realpath(path, NULL);
    if (*real == NULL)
        goto fail;
    return 0;
fail:
    e = errno;
    close(*fd);
    *fd = -1;
    return open_dir_fail(path, e, err, errlen);
}

/* A directory's identity, and which command-line argument named it. */
struct dir_id {
    dev_t dev;
    ino_t ino;
    unsigned idx;
};

/* By identity only: the order bsearch needs. */
static int dir_id_key_cmp(const void *a, const void *b)
{
    const struct dir_id *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return 0;
}

/* By identity, then by argument: the same directory's names sort in
 * command-line order. */
static int dir_id_cmp(const void *a, const void *b)
{
    const struct dir_id *x = a, *y = b;
    int c = dir_id_key_cmp(a, b);
    if (c != 0)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

enum tool_nest tool_dirs_nested(const int *fds, char *const *reals, unsigned n, unsigned *inner,
                                unsigned *outer, char *err, size_t errlen)
{
    enum tool_nest found = TOOL_NEST_NONE;
    struct stat st;
    char *path = NULL;
    if (n == 0)
        return TOOL_NEST_NONE;
    /* Sorted identities make the check O(n log n) per ancestor level,
     * since xargs may hand scan thousands of directories. */
    struct dir_id *ids = calloc(n, sizeof *ids);
    if (ids == NULL) {
        snprintf(err, errlen, "out of memory");
        return TOOL_NEST_ERROR;
    }
    for (unsigned i = 0; i < n; i++) {
        if (fstat(fds[i], &st) < 0) {
            snprintf(err, errlen, "%s: %s", reals[i], strerror(errno));
            found = TOOL_NEST_ERROR;
            goto out;
        }
        ids[i].dev = st.st_dev;
        ids[i].ino = st.st_ino;
        ids[i].idx = i;
    }
    qsort(ids, n, sizeof *ids, dir_id_cmp);
    /* The same directory twice: report the pair whose later name comes
     * first on the command line. */
    for (unsigned k = 1; k < n; k++) {
        if (dir_id_key_cmp(&ids[k - 1], &ids[k]) == 0 &&
            (found == TOOL_NEST_NONE || ids[k].idx < *inner)) {
            *outer = ids[k - 1].idx;
            *inner = ids[k].idx;
            found = TOOL_NEST_SAME;
        }
    }
    if (found != TOOL_NEST_NONE)
        goto out;
    /* One inside another: the identities are unique now, so one lookup per
     * ancestor, nearest first. */
    for (unsigned i = 0; i < n && found == TOOL_NEST_NONE; i++) {
        size_t len = strlen(reals[i]);
        char *p = realloc(path, len + 1);
        if (p == NULL) {
            snprintf(err, errlen, "out of memory");
            found = TOOL_NEST_ERROR;
            break;
        }
        path = p;
        memcpy(path, reals[i], len + 1);
        while (len > 1) {
            char *slash = strrchr(path, '/');
            if (slash == NULL)
                break; /* not absolute: no ancestors to compare */
            len = slash == path ? 1 : (size_t)(slash - path);
            path[len] = '\0';
            if (lstat(path, &st) < 0) {
                snprintf(err, errlen, "cannot examine %s, above %s: %s", path, reals[i],
                         strerror(errno));
                found = TOOL_NEST_ERROR;
                break;
            }
            struct dir_id key = {st.st_dev, st.st_ino, 0};
            const struct dir_id *hit = bsearch(&key, ids, n, sizeof *ids, dir_id_key_cmp);
            /* Its own identity above it: a bind mount of an ancestor onto
             * it, which is no second argument. */
            if (hit != NULL && hit->idx != i) {
                *inner = i;
                *outer = hit->idx;
                found = TOOL_NEST_INSIDE;
                break;
            }
        }
    }
out:
    free(path);
    free(ids);
    return found;
}

int tool_usage_error(struct tool_usage *u, const char *fmt, ...)
{
    if (u->end)
        return EXITCODE_USAGE;
    char sentence[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sentence, sizeof sentence, fmt, ap);
    va_end(ap);
    /* Both lines through the log's format: a level, and the journal's
     * prefix or JSON when set (the --log-format flags before this one). */
    size_t len = log_format_line(u->buf, sizeof u->buf, LOG_SEV_ERROR, sentence);
    snprintf(sentence, sizeof sentence, "Try '%s --help'.", log_prog());
    log_format_line(u->buf + len, sizeof u->buf - len, LOG_SEV_ERROR, sentence);
    u->out = u->buf;
    u->code = EXITCODE_USAGE;
    u->end = 1;
    return EXITCODE_USAGE;
}

uint64_t tool_parse_num(struct tool_usage *u, const char *flag, const char *arg, uint64_t min,
                        uint64_t max)
{
    uint64_t v;
    char why[256];
    if (opts_parse_u64(arg, min, max, &v, why, sizeof why) == 0)
        return v;
    tool_usage_error(u, "%s: %s", flag, why);
    return 0;
}

/* The number of arg by parse, or 0 with the failure in u. */
static uint64_t parse_with(struct tool_usage *u, const char *flag, const char *arg,
                           int (*parse)(const char *, uint64_t *, char *, size_t))
{
    uint64_t v;
    char why[256];
    if (parse(arg, &v, why, sizeof why) == 0)
        return v;
    tool_usage_error(u, "%s: %s", flag, why);
    return 0;
}

uint64_t tool_parse_size(struct tool_usage *u, const char *flag, const char *arg)
{
    return parse_with(u, flag, arg, opts_parse_size);
}

uint64_t tool_parse_duration(struct tool_usage *u, const char *flag, const char *arg)
{
    return parse_with(u, flag, arg, opts_parse_duration);
}

/* End u with --help, or the --version line, for stdout. */
static void end_with_output(struct tool_usage *u, int help)
{
    if (u->end)
        return;
    snprintf(u->buf, sizeof u->buf, "%s (scanmove) %s\n", log_tool(), SCANMOVE_VERSION);
    u->out = help ? u->help : u->buf;
    u->code = EXITCODE_OK;
    u->end = 1;
}

void tool_common_option(struct tool_usage *u, struct cfg *c, struct service_opts *svc,
                        int *verbosity, int opt, char **argv)
{
    char err[1024];
    int r = cfg_apply_option(c, opt, optarg, err, sizeof err);
    if (r == 0)
        r = service_option(svc, opt, optarg, err, sizeof err);
    if (r < 0)
        tool_usage_error(u, "%s", err);
    else if (r > 0)
        return;
    else if (opt == 'q')
        *verbosity = LOG_LEVEL_QUIET;
    else if (opt == 'v')
        *verbosity = *verbosity < LOG_LEVEL_INFO ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG;
    else if (opt == 'h' || opt == 'V')
        end_with_output(u, opt == 'h');
    else if (opt == ':')
        tool_usage_error(u, "option '%s' needs an argument", argv[optind - 1]);
    else if (optopt != 0 && optopt < 256)
        tool_usage_error(u, "unknown option '-%c'", optopt);
    else
        tool_usage_error(u, "unknown option '%s'", argv[optind - 1]);
}

int tool_finish_stdout(int code, char *err, size_t errlen)
{
    int lost = ferror(stdout);
    if ((fclose(stdout) != 0 || lost) && (code == EXITCODE_OK || code == EXITCODE_SOME_FAILED)) {
        snprintf(err, errlen, "cannot write to standard output%s%s", lost ? "" : ": ",
                 lost ? "" : strerror(errno));
        return EXITCODE_IOERR;
    }
    return code;
}

void tool_catch_stop(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* End u with code and the log line "PROG: error: SENTENCE" on stderr, or
 * the line "TEXT" on stdout when code is EXITCODE_OK. */
static void end_with_line(struct tool_usage *u, int code, const char *text)
{
    if (code == EXITCODE_OK)
        snprintf(u->buf, sizeof u->buf, "%s\n", text);
    else
        log_format_line(u->buf, sizeof u->buf, LOG_SEV_ERROR, text);
    u->out = u->buf;
    u->code = code;
    u->end = 1;
}

void tool_settings(struct tool_usage *u, struct cfg *c, struct service_opts *svc, int argc,
                   char **argv, int resolve, enum tool_check_mode check)
{
    char err[1024];
    int code = EXITCODE_CONFIG;
    if (u->end)
        return;
    if (cfg_from_env(c, err, sizeof err) < 0 || service_from_env(svc, err, sizeof err) < 0)
        goto fail;
    if (cfg_hide_argv_password(argc, argv) && u->warn != NULL)
        u->warn("a password in --url is visible to other users; use --url-file or AMQP_URL");
    if (resolve && cfg_finish(c, err, sizeof err) < 0)
        goto fail;
    if (check == TOOL_CHECK_NONE)
        return;
    /* The report goes to stdout, and a failure's sentence to stderr. */
    code = tool_check(c, check, u->json, sizeof u->json, err, sizeof err);
    if (code == EXITCODE_OK) {
        u->out = u->json;
        u->code = code;
        u->end = 1;
        return;
    }
    u->data = u->json[0] != '\0' ? u->json : NULL;
    end_with_line(u, code, err);
    return;
fail:
    if (check == TOOL_CHECK_JSON) {
        tool_check_json_error(c, err, u->json, sizeof u->json); /* before connecting */
        u->data = u->json;
    }
    end_with_line(u, code, err);
}
