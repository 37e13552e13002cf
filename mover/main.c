/*
 * move - consume the queue and relocate each file it names, safely, from
 * any number of processes (see docs/move.1).
 *
 * This front end parses options and wires consume (delivery loop) and
 * fileop (confined moves) together; it is the only place that prints
 * results or exits.
 */
#include "cfg.h"
#include "clock.h"
#include "consume.h"
#include "exitcode.h"
#include "log.h"
#include "mq.h"
#include "opts.h"
#include "requeue.h"
#include "tool.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Measured with bench/move.sh: 2 movers gain up to 256, nothing beyond. */
#define PREFETCH_DEFAULT 256
#define PREFETCH_DEFAULT_S "256"

static const char usage_text[] =
    "Usage: move [OPTIONS] --from ROOT [--from ROOT...] --to DEST\n"
    "       move [OPTIONS] --check\n"
    "       move [OPTIONS] --requeue-dead [--count N]\n"
    "Consume the scanmove queue and move each file it names from a --from root\n"
    "to the --to directory, keeping its relative path; run as many as you like.\n"
    "A message is acknowledged only once its file is in place.\n"
    "\n"
    "      --from ROOT           a root files may be taken from (repeatable; no\n"
    "                            root may lie inside another)\n"
    "      --to DEST             the destination directory\n"
    "      --on-conflict POLICY  when DEST already has another file of that name:\n"
    "                            rename (default: keep both, the new one as\n"
    "                            name.1.ext), skip, fail (dead-letter), overwrite\n"
    "      --fsync               make renames durable before acknowledging (one\n"
    "                            directory flush per group of messages)\n"
    "      --prefetch N          messages the broker sends ahead (default " PREFETCH_DEFAULT_S ")\n"
    "      --count N             exit after handling N messages\n"
    "      --idle-exit DURATION  exit once the queue has been idle this long\n"
    "      --reconnect-timeout DURATION  give up on an unreachable or lost broker\n"
    "                            after this long (default: keep trying)\n"
    "      --json                print the summary as JSON on standard output\n"
    "      --check               connect, declare the queues, report their counts\n"
    "      --requeue-dead        put the dead letters back on the queue (after\n"
    "                            fixing what failed them), then exit\n"
    "  -q, --quiet               print errors only\n"
    "  -v, --verbose             print one line per file handled\n"
    "  -h, --help                show this help and exit\n"
    "  -V, --version             show the version and exit\n"
    "\n" CFG_HELP "\n"
    "Exit status: 0 ok (also after --count, --idle-exit, SIGINT or SIGTERM),\n"
    "64 usage (also a root given twice or inside another), 66 no such root or\n"
    "destination (also DEST deleted while running), 69 broker unreachable or\n"
    "lost for longer than\n"
    "--reconnect-timeout, 70 internal error, 77 authentication or access refused\n"
    "(broker, or a root or the destination), 78 configuration or topology\n"
    "mismatch. See move(1).\n";

enum {
    OPT_CHECK = 2000,
    OPT_FROM,
    OPT_TO,
    OPT_ON_CONFLICT,
    OPT_FSYNC,
    OPT_PREFETCH,
    OPT_COUNT,
    OPT_IDLE_EXIT,
    OPT_RECONNECT_TIMEOUT,
    OPT_JSON,
    OPT_REQUEUE_DEAD
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

/* ---- the progress line, on a terminal only ---- */

static int progress_on, progress_drawn;
static double progress_last;
static uint64_t progress_done_last;


static void progress_clear(void)
{
    if (progress_drawn)
        fputs("\r\033[K", stderr);
    progress_drawn = 0;
}

/* Redraw at most once a second: the counts so far and the rate of the last
 * second (a worker runs for days; an average since start says little). */
static void progress(const struct consume_stats *st, int last)
{
    if (!progress_on)
        return;
    if (last) {
        progress_clear();
        return;
    }
    double now = mono_now();
    if (progress_last == 0) {
        progress_last = now;
        return;
    }
    if (now - progress_last < 1.0)
        return;
    uint64_t done = st->moved + st->skipped + st->duplicates + st->dead;
    double rate = (double)(done - progress_done_last) / (now - progress_last);
    progress_last = now;
    progress_done_last = done;
    fprintf(stderr,
            "\r\033[K%s: %llu moved, %llu duplicates, %llu skipped, %llu dead-lettered, %llu "
            "requeued, %.0f files/s",
            log_prog(), (unsigned long long)st->moved, (unsigned long long)st->duplicates,
            (unsigned long long)st->skipped, (unsigned long long)st->dead,
            (unsigned long long)st->requeued, rate);
    progress_drawn = 1;
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_error("%s", msg);
    fprintf(stderr, "Try 'move --help'.\n");
    exit(EXITCODE_USAGE);
}

/* stdout carries data: a write error there (full disk, closed pipe) must
 * not pass silently. */
static int finish_stdout(int code)
{
    if (fclose(stdout) != 0 && code == EXITCODE_OK) {
        log_error("cannot write to standard output: %s", strerror(errno));
        return EXITCODE_IOERR;
    }
    return code;
}

static uint64_t parse_num(const char *opt, const char *arg, uint64_t min, uint64_t max)
{
    uint64_t v;
    char why[256];
    if (opts_parse_u64(arg, min, max, &v, why, sizeof why) < 0)
        usage_error("%s: %s", opt, why);
    return v;
}

static uint64_t parse_duration(const char *opt, const char *arg)
{
    uint64_t v;
    char why[256];
    if (opts_parse_duration(arg, &v, why, sizeof why) < 0)
        usage_error("%s: %s", opt, why);
    return v;
}

/* Open a directory given on the command line; exit 66 when it does not
 * exist or is not one, 77 when it may not be read or searched. */
static int open_dir(const char *path, char **real)
{
    char err[PATH_MAX + 256];
    int fd, code = tool_open_dir(path, &fd, real, err, sizeof err);
    if (code != 0) {
        log_error("%s", err);
        exit(code);
    }
    return fd;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        CFG_LONG_OPTIONS,
        {"check", no_argument, NULL, OPT_CHECK},
        {"count", required_argument, NULL, OPT_COUNT},
        {"from", required_argument, NULL, OPT_FROM},
        {"fsync", no_argument, NULL, OPT_FSYNC},
        {"help", no_argument, NULL, 'h'},
        {"idle-exit", required_argument, NULL, OPT_IDLE_EXIT},
        {"json", no_argument, NULL, OPT_JSON},
        {"on-conflict", required_argument, NULL, OPT_ON_CONFLICT},
        {"prefetch", required_argument, NULL, OPT_PREFETCH},
        {"quiet", no_argument, NULL, 'q'},
        {"reconnect-timeout", required_argument, NULL, OPT_RECONNECT_TIMEOUT},
        {"requeue-dead", no_argument, NULL, OPT_REQUEUE_DEAD},
        {"to", required_argument, NULL, OPT_TO},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static struct cfg c;
    struct consume_opts co;
    const char *from[64], *to = NULL;
    unsigned n_from = 0;
    char err[1024];
    int check = 0, json = 0, requeue = 0, verbosity = LOG_LEVEL_WARN;

    log_init("move", LOG_LEVEL_WARN);
    signal(SIGPIPE, SIG_IGN);
    cfg_defaults(&c);
    memset(&co, 0, sizeof co);
    co.prefetch = PREFETCH_DEFAULT;

    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":hqvV", longopts, NULL)) != -1) {
        int r = cfg_apply_option(&c, opt, optarg, err, sizeof err);
        if (r < 0)
            usage_error("%s", err);
        if (r > 0)
            continue;
        switch (opt) {
        case OPT_CHECK:
            check = 1;
            break;
        case OPT_FROM:
            if (n_from == sizeof from / sizeof from[0])
                usage_error("too many --from roots (at most 64)");
            from[n_from++] = optarg;
            break;
        case OPT_TO:
            to = optarg;
            break;
        case OPT_ON_CONFLICT:
            if (strcmp(optarg, "rename") == 0)
                co.fileop.conflict = FILEOP_RENAME;
            else if (strcmp(optarg, "skip") == 0)
                co.fileop.conflict = FILEOP_SKIP;
            else if (strcmp(optarg, "fail") == 0)
                co.fileop.conflict = FILEOP_FAIL;
            else if (strcmp(optarg, "overwrite") == 0)
                co.fileop.conflict = FILEOP_OVERWRITE;
            else
                usage_error("--on-conflict must be rename, skip, fail or overwrite, not '%s'",
                            optarg);
            break;
        case OPT_FSYNC:
            co.fsync = 1;
            break;
        case OPT_PREFETCH:
            co.prefetch = (unsigned)parse_num("--prefetch", optarg, 1, 65535);
            break;
        case OPT_COUNT:
            co.count = parse_num("--count", optarg, 1, UINT64_MAX);
            break;
        case OPT_IDLE_EXIT:
            co.idle_exit_ms = parse_duration("--idle-exit", optarg);
            break;
        case OPT_RECONNECT_TIMEOUT:
            co.reconnect_timeout_ms = parse_duration("--reconnect-timeout", optarg);
            break;
        case OPT_JSON:
            json = 1;
            break;
        case OPT_REQUEUE_DEAD:
            requeue = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return finish_stdout(EXITCODE_OK);
        case 'q':
            verbosity = LOG_LEVEL_QUIET;
            break;
        case 'v':
            verbosity = verbosity < LOG_LEVEL_INFO ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG;
            break;
        case 'V':
            printf("move (scanmove) %s\n", SCANMOVE_VERSION);
            return finish_stdout(EXITCODE_OK);
        case ':':
            usage_error("option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt != 0 && optopt < 256)
                usage_error("unknown option '-%c'", optopt);
            usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    log_set_level((enum log_level)verbosity);
    if (c.url_flag[0] != '\0' && c.url_file[0] != '\0')
        usage_error("--url and --url-file cannot be used together");
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (check && requeue)
        usage_error("--check and --requeue-dead cannot be used together");
    if ((check || requeue) && (n_from > 0 || to != NULL))
        usage_error("--%s takes no --from or --to", check ? "check" : "requeue-dead");
    if (!check && !requeue && (n_from == 0 || to == NULL))
        usage_error("%s", n_from == 0 ? "no --from root given" : "no --to directory given");
    if (cfg_from_env(&c, err, sizeof err) < 0) {
        log_error("%s", err);
        return EXITCODE_CONFIG;
    }
    if (cfg_hide_argv_password(argc, argv))
        log_warn("a password in --url is visible to other users; use --url-file or AMQP_URL");
    if (cfg_finish(&c, err, sizeof err) < 0) {
        log_error("%s", err);
        return EXITCODE_CONFIG;
    }

    char name[300];
    tool_conn_name("move", name, sizeof name);
    if (check) {
        char report[1024];
        enum mq_status s = tool_check(&c, name, report, sizeof report, err, sizeof err);
        if (s != MQ_OK) {
            log_error("%s", err);
            return finish_stdout(mq_exitcode(s));
        }
        printf("%s\n", report);
        return finish_stdout(EXITCODE_OK);
    }

    if (requeue) {
        struct sigaction rsa;
        memset(&rsa, 0, sizeof rsa);
        rsa.sa_handler = on_signal;
        sigaction(SIGINT, &rsa, NULL);
        sigaction(SIGTERM, &rsa, NULL);
        uint64_t n = 0;
        enum mq_status s = requeue_dead(&c, name, co.count, &stop_signal, &n, err, sizeof err);
        if (verbosity > LOG_LEVEL_QUIET)
            log_error("requeued %llu dead letters from '%s.dead' to exchange '%s'",
                      (unsigned long long)n, c.queue, c.exchange);
        if (json)
            printf("{\"requeued_dead\":%llu}\n", (unsigned long long)n);
        if (s != MQ_OK) {
            log_error("%s", err);
            return finish_stdout(mq_exitcode(s));
        }
        return finish_stdout(EXITCODE_OK);
    }

    static struct consume_root roots[64];
    char *dest_real;
    co.dest_fd = open_dir(to, &dest_real);
    for (unsigned i = 0; i < n_from; i++) {
        roots[i].fd = open_dir(from[i], &roots[i].real);
        if (strcmp(roots[i].real, dest_real) == 0)
            usage_error("--to is the same directory as --from %s", from[i]);
    }
    /* A root inside another would make one file reachable under two roots:
     * which message moves it, and where it lands, would depend on their
     * order. */
    int from_fds[64];
    char *from_reals[64];
    for (unsigned i = 0; i < n_from; i++) {
        from_fds[i] = roots[i].fd;
        from_reals[i] = roots[i].real;
    }
    unsigned inner = 0, outer = 0;
    switch (tool_dirs_nested(from_fds, from_reals, n_from, &inner, &outer, err, sizeof err)) {
    case TOOL_NEST_NONE:
        break;
    case TOOL_NEST_INSIDE:
        usage_error("--from %s is inside --from %s: give each root once", from[inner], from[outer]);
    case TOOL_NEST_SAME:
        usage_error("--from %s and --from %s are the same directory: give each root once",
                    from[outer], from[inner]);
    case TOOL_NEST_ERROR:
        log_error("%s", err);
        return EXITCODE_NOINPUT;
    }
    co.dest_path = dest_real;
    co.cfg = &c;
    co.conn_name = name;
    co.roots = roots;
    co.n_roots = n_from;
    co.stop = &stop_signal;
    /* Testing aid: copy as on filesystems without O_TMPFILE (NFS, CIFS). */
    const char *nt = getenv("SCANMOVE_TEST_NAMED_TEMP");
    co.fileop.named_temp = nt != NULL && strcmp(nt, "1") == 0;
    progress_on = verbosity > LOG_LEVEL_QUIET && isatty(STDERR_FILENO);
    if (progress_on) {
        co.progress = progress;
        log_set_before(progress_clear);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    static struct consume_stats st;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum mq_status s = consume_run(&co, &st, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    uint64_t total = st.moved + st.skipped + st.duplicates + st.dead;
    if (verbosity > LOG_LEVEL_QUIET)
        log_error("%llu moved, %llu skipped, %llu duplicates, %llu dead-lettered, %llu requeued "
                  "in %.2f s (%.0f files/s)",
                  (unsigned long long)st.moved, (unsigned long long)st.skipped,
                  (unsigned long long)st.duplicates, (unsigned long long)st.dead,
                  (unsigned long long)st.requeued, secs, secs > 0 ? (double)total / secs : 0.0);
    if (json) {
        printf("{\"moved\":%llu,\"skipped\":%llu,\"duplicates\":%llu,\"dead_lettered\":%llu,"
               "\"requeued\":%llu,\"seconds\":%.3f,\"files_per_second\":%.1f,"
               "\"dead_by_reason\":{",
               (unsigned long long)st.moved, (unsigned long long)st.skipped,
               (unsigned long long)st.duplicates, (unsigned long long)st.dead,
               (unsigned long long)st.requeued, secs, secs > 0 ? (double)total / secs : 0.0);
        for (unsigned i = 0; i < st.n_seen; i++)
            printf("%s\"%s\":%llu", i ? "," : "", move_reason_name(st.seen[i]),
                   (unsigned long long)st.by_reason[st.seen[i]]);
        printf("}}\n");
    }
    int code = EXITCODE_OK;
    if (s != MQ_OK) {
        log_error("%s", err);
        code = mq_exitcode(s);
    } else if (st.local_exit != 0) {
        log_error("%s", err);
        code = st.local_exit;
    }
    for (unsigned i = 0; i < n_from; i++) {
        close(roots[i].fd);
        free(roots[i].real);
    }
    close(co.dest_fd);
    free(dest_real);
    return finish_stdout(code);
}
