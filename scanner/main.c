/*
 * scan - walk directories, inspect every file, and publish one confirmed
 * message per accepted file (see docs/scan.1).
 *
 * This front end parses options and wires the pieces together: pipeline
 * (walk and inspect threads), publish (confirm window), report (outcomes).
 * It is the only place that prints results or exits.
 */
#include "cfg.h"
#include "exitcode.h"
#include "hash.h"
#include "log.h"
#include "msg.h"
#include "opts.h"
#include "run.h"
#include "tool.h"
#include "version.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "Usage: scan [OPTIONS] DIR...\n"
    "       scan [OPTIONS] --check\n"
    "Walk directories (each named once, none inside another), inspect every file\n"
    "and publish one persistent message per accepted file to RabbitMQ, for 'move'\n"
    "workers to relocate.\n"
    "\n"
    "Selection:\n"
    "      --max-depth N         descend at most N levels (1: only DIR's entries)\n"
    "      --one-file-system     do not enter directories on other filesystems\n"
    "      --hidden              include names starting with '.'\n"
    "      --include GLOB        accept only paths matching GLOB (repeatable)\n"
    "      --exclude GLOB        reject paths matching GLOB (repeatable; wins)\n"
    "      --min-size SIZE       reject smaller files (SIZE: 512, 10K, 5M, 1G)\n"
    "      --max-size SIZE       reject larger files\n"
    "      --min-age DURATION    reject files modified more recently (30s, 5m, 2h)\n"
    "      --max-age DURATION    reject files modified longer ago\n"
    "      --mime PATTERN        accept only these types by content, e.g. 'image/*'\n"
    "                            (repeatable)\n"
    "      --no-mime             leave the type out of messages (faster)\n"
    "      --readable            reject files that cannot be opened for reading\n"
    "      --checksum[=ALG]      put the hash of each file's content in its message,\n"
    "                            for move to check: xxh128 (the default) or sha256\n"
    "Output:\n"
    "      --dry-run             print the messages as JSON lines; no broker\n"
    "      --rejects FILE        write rejected and failed entries as JSON lines\n"
    "                            ('-' for standard output)\n"
    "      --json                print the summary as JSON on standard output\n"
    "  -q, --quiet               print errors only\n"
    "  -v, --verbose             print one line per rejected entry\n"
    "Running:\n"
    "  -j, --jobs N              inspection threads (default: number of CPUs)\n"
    "      --confirm-window N    most unconfirmed messages in flight (default 4096)\n"
    "      --reconnect-timeout DURATION  keep reconnecting to a lost broker this\n"
    "                            long, then fail (default 30s; 0: fail at once)\n"
    "      --blocked-timeout DURATION    wait this long while the broker blocks\n"
    "                            publishing (default 5m)\n"
    "      --requeue-after DURATION  publish a file whose message is still queued\n"
    "                            again after this long (default 24h; 0: always)\n"
    "      --no-mark             neither read nor write the marks of queued files\n"
    "      --max-queued N        publish nothing and exit 75 when the queue holds\n"
    "                            N messages or more\n"
    "      --wait                wait while another scan holds a DIR (default: exit 75)\n"
    "      --check               report the queues' counts, creating nothing (as\n"
    "                            JSON with --json); exit 78 when the queue, the\n"
    "                            exchange or their dead-letter side is missing\n"
    "  -h, --help                show this help and exit\n"
    "  -V, --version             show the version and exit\n"
    "\n" SERVICE_HELP_SCAN "\n" CFG_HELP "\n"
    "Exit status: 0 every accepted file confirmed, 1 some files failed, 64 usage\n"
    "(also a DIR given twice or inside another), 66 no such directory, 69 broker\n"
    "unreachable or lost, 70 internal error, 73 --log-file cannot be opened, 74\n"
    "standard output not writable, 75 try later (broker blocked publishing,\n"
    "--max-queued reached, or another scan holds a DIR),\n"
    "77 authentication or access refused (broker, or a DIR), 78 configuration or\n"
    "topology mismatch, 130/143 interrupted. See scan(1).\n";

enum {
    OPT_CHECK = 2000,
    OPT_MAX_DEPTH,
    OPT_ONE_FS,
    OPT_HIDDEN,
    OPT_INCLUDE,
    OPT_EXCLUDE,
    OPT_MIN_SIZE,
    OPT_MAX_SIZE,
    OPT_MIN_AGE,
    OPT_MAX_AGE,
    OPT_MIME,
    OPT_NO_MIME,
    OPT_READABLE,
    OPT_DRY_RUN,
    OPT_REJECTS,
    OPT_JSON,
    OPT_WINDOW,
    OPT_RECONNECT_TIMEOUT,
    OPT_BLOCKED_TIMEOUT,
    OPT_REQUEUE_AFTER,
    OPT_MAX_QUEUED,
    OPT_WAIT,
    OPT_NO_MARK,
    OPT_CHECKSUM
};

/* A signal sets both; a broker lost for good ends only the walk. The
 * publisher watches stop_signal alone, the walk and the inspection threads
 * stop_walk. */
static volatile sig_atomic_t stop_signal, stop_walk;

static void on_signal(int sig)
{
    stop_signal = sig;
    stop_walk = 1;
}

/* Say what ends the run before it starts (see struct tool_usage). */
static int end_early(const struct tool_usage *u)
{
    if (u->data != NULL)
        fputs(u->data, stdout);
    fputs(u->out, u->code == EXITCODE_OK ? stdout : stderr);
    return u->code;
}

/* A growable NULL-terminated list of patterns for --include and friends. */
struct strlist {
    const char **v;
    size_t n;
};

static void strlist_add(struct strlist *l, const char *s)
{
    const char **v = realloc(l->v, (l->n + 2) * sizeof *v);
    if (v == NULL) {
        log_error("out of memory");
        exit(EXITCODE_SOFTWARE);
    }
    v[l->n++] = s;
    v[l->n] = NULL;
    l->v = v;
}

struct options {
    struct run_opts r; /* what the run needs */
    struct strlist include, exclude, mime;
    int check, verbosity, jobs_given;
};

static void set_defaults(struct options *o)
{
    cfg_defaults(&o->r.cfg);
    o->r.svc.metrics_interval_ms = 10000;
    o->r.rules.max_size = UINT64_MAX;
    o->r.rules.want_mime = 1;
    o->verbosity = LOG_LEVEL_WARN;
    o->r.window = 4096;
    o->r.reconnect_ms = 30000;
    o->r.blocked_ms = 300000;
    o->r.requeue_after_ms = 24 * 3600 * 1000ULL;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o->r.jobs = cpus > 0 ? (uint64_t)cpus : 1;
    if (o->r.jobs > 256)
        o->r.jobs = 256;
}

/* Handle one of scan's own options; 0 when opt is not one. */
static int parse_option(struct options *o, int opt, struct tool_usage *u)
{
    switch (opt) {
    case OPT_CHECK:
        o->check = 1;
        break;
    case OPT_MAX_DEPTH:
        o->r.walk.max_depth = (unsigned)tool_parse_num(u, "--max-depth", optarg, 1, UINT_MAX);
        break;
    case OPT_ONE_FS:
        o->r.walk.one_file_system = 1;
        break;
    case OPT_HIDDEN:
        o->r.walk.hidden = 1;
        break;
    case OPT_INCLUDE:
        strlist_add(&o->include, optarg);
        break;
    case OPT_EXCLUDE:
        strlist_add(&o->exclude, optarg);
        break;
    case OPT_MIME:
        strlist_add(&o->mime, optarg);
        break;
    case OPT_MIN_SIZE:
        o->r.rules.min_size = tool_parse_size(u, "--min-size", optarg);
        break;
    case OPT_MAX_SIZE:
        o->r.rules.max_size = tool_parse_size(u, "--max-size", optarg);
        break;
    case OPT_MIN_AGE:
        o->r.rules.has_min_age = 1;
        o->r.min_age_ms = tool_parse_duration(u, "--min-age", optarg);
        break;
    case OPT_MAX_AGE:
        o->r.rules.has_max_age = 1;
        o->r.max_age_ms = tool_parse_duration(u, "--max-age", optarg);
        break;
    case OPT_NO_MIME:
        o->r.rules.want_mime = 0;
        break;
    case OPT_READABLE:
        o->r.rules.readable = 1;
        break;
    case OPT_CHECKSUM:
        if (hash_alg_parse(optarg != NULL ? optarg : "xxh128", &o->r.rules.checksum) < 0)
            tool_usage_error(u, "--checksum: unknown algorithm '%s' (xxh128 or sha256)", optarg);
        break;
    case OPT_DRY_RUN:
        o->r.dry_run = 1;
        break;
    case OPT_REJECTS:
        o->r.rejects = optarg;
        break;
    case OPT_JSON:
        o->r.json = 1;
        break;
    case 'j':
        o->r.jobs = tool_parse_num(u, "--jobs", optarg, 1, 256);
        o->jobs_given = 1;
        break;
    case OPT_WINDOW:
        o->r.window = tool_parse_num(u, "--confirm-window", optarg, 1, 1000000);
        break;
    case OPT_RECONNECT_TIMEOUT:
        o->r.reconnect_ms = tool_parse_duration(u, "--reconnect-timeout", optarg);
        break;
    case OPT_BLOCKED_TIMEOUT:
        o->r.blocked_ms = tool_parse_duration(u, "--blocked-timeout", optarg);
        break;
    case OPT_REQUEUE_AFTER:
        o->r.requeue_after_ms = tool_parse_duration(u, "--requeue-after", optarg);
        break;
    case OPT_MAX_QUEUED:
        o->r.max_queued = tool_parse_num(u, "--max-queued", optarg, 1, UINT32_MAX);
        break;
    case OPT_WAIT:
        o->r.wait_lock = 1;
        break;
    case OPT_NO_MARK:
        o->r.no_mark = 1;
        break;
    default:
        return 0;
    }
    return 1;
}

/* The options from argv into o. Returns -1 to go on, or the exit status
 * (after --help, --version, or a usage error, printed). */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        CFG_LONG_OPTIONS TOOL_LONG_OPTIONS SERVICE_LONG_OPTIONS /* shared flags, -h -q -v -V */
        {"blocked-timeout", required_argument, NULL, OPT_BLOCKED_TIMEOUT},
        {"check", no_argument, NULL, OPT_CHECK},
        {"checksum", optional_argument, NULL, OPT_CHECKSUM},
        {"confirm-window", required_argument, NULL, OPT_WINDOW},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"exclude", required_argument, NULL, OPT_EXCLUDE},
        {"hidden", no_argument, NULL, OPT_HIDDEN},
        {"include", required_argument, NULL, OPT_INCLUDE},
        {"jobs", required_argument, NULL, 'j'},
        {"json", no_argument, NULL, OPT_JSON},
        {"max-age", required_argument, NULL, OPT_MAX_AGE},
        {"max-depth", required_argument, NULL, OPT_MAX_DEPTH},
        {"max-queued", required_argument, NULL, OPT_MAX_QUEUED},
        {"max-size", required_argument, NULL, OPT_MAX_SIZE},
        {"mime", required_argument, NULL, OPT_MIME},
        {"min-age", required_argument, NULL, OPT_MIN_AGE},
        {"min-size", required_argument, NULL, OPT_MIN_SIZE},
        {"no-mark", no_argument, NULL, OPT_NO_MARK},
        {"no-mime", no_argument, NULL, OPT_NO_MIME},
        {"one-file-system", no_argument, NULL, OPT_ONE_FS},
        {"readable", no_argument, NULL, OPT_READABLE},
        {"reconnect-timeout", required_argument, NULL, OPT_RECONNECT_TIMEOUT},
        {"rejects", required_argument, NULL, OPT_REJECTS},
        {"requeue-after", required_argument, NULL, OPT_REQUEUE_AFTER},
        {"wait", no_argument, NULL, OPT_WAIT},
        {NULL, 0, NULL, 0},
    };
    struct tool_usage u = {.help = usage_text};
    char err[1024];
    int opt;

    set_defaults(o);
    opterr = 0;
    while (!u.end && (opt = getopt_long(argc, argv, ":hj:qvV", longopts, NULL)) != -1)
        if (!parse_option(o, opt, &u))
            tool_common_option(&u, &o->r.cfg, &o->r.svc, &o->verbosity, opt, argv);
    if (u.end)
        return end_early(&u);
    if (cfg_check_flags(&o->r.cfg, err, sizeof err) < 0)
        tool_usage_error(&u, "%s", err);
    else if (o->r.rules.min_size > o->r.rules.max_size)
        tool_usage_error(&u, "--min-size is larger than --max-size");
    else if (o->check && optind < argc)
        tool_usage_error(&u, "--check takes no directories");
    else if (!o->check && optind == argc)
        tool_usage_error(&u, "no directory to scan");
    if (u.end)
        return end_early(&u);
    const char *env_jobs = getenv("SCANMOVE_JOBS");
    if (!o->jobs_given && env_jobs != NULL && *env_jobs != '\0') {
        if (opts_parse_u64(env_jobs, 1, 256, &o->r.jobs, err, sizeof err) < 0) {
            log_error("SCANMOVE_JOBS: %s", err);
            return EXITCODE_CONFIG;
        }
    }
    o->r.rules.include = o->include.v;
    o->r.rules.exclude = o->exclude.v;
    o->r.rules.mime = o->mime.v;
    return -1;
}

/* Open each DIR and find its canonical path; exit 66 for a missing one, 77
 * for one that may not be read, 64 for one given twice or inside another.
 * All before connecting: a mistake costs no broker round trip. */
static struct scan_root *open_roots(char **dirs, unsigned n)
{
    struct scan_root *roots = calloc(n, sizeof *roots);
    int *fds = calloc(n, sizeof *fds);
    char **reals = calloc(n, sizeof *reals);
    char err[PATH_MAX + 256];
    if (roots == NULL || fds == NULL || reals == NULL) {
        log_error("out of memory");
        exit(EXITCODE_SOFTWARE);
    }
    for (unsigned i = 0; i < n; i++) {
        int code = tool_open_dir(dirs[i], &roots[i].fd, &roots[i].real, err, sizeof err);
        if (code != 0) {
            log_error("%s", err);
            exit(code);
        }
        roots[i].real_len = strlen(roots[i].real);
        if (roots[i].real_len > MSG_PATH_MAX) {
            log_error("%s: the path is longer than %d bytes", dirs[i], MSG_PATH_MAX);
            exit(EXITCODE_NOINPUT);
        }
        fds[i] = roots[i].fd;
        reals[i] = roots[i].real;
    }
    /* A DIR inside another would be walked twice, and each of its files
     * published twice under two roots: two messages with different ids,
     * of which the mover can honour only the first. */
    unsigned inner = 0, outer = 0;
    struct tool_usage u = {.help = usage_text};
    switch (tool_dirs_nested(fds, reals, n, &inner, &outer, err, sizeof err)) {
    case TOOL_NEST_NONE:
        break;
    case TOOL_NEST_INSIDE:
        tool_usage_error(&u, "%s is inside %s: give each directory once", dirs[inner], dirs[outer]);
        exit(end_early(&u));
    case TOOL_NEST_SAME:
        tool_usage_error(&u, "%s and %s are the same directory: give each directory once",
                         dirs[outer], dirs[inner]);
        exit(end_early(&u));
    case TOOL_NEST_ERROR:
        log_error("%s", err);
        exit(EXITCODE_NOINPUT);
    }
    free(fds);
    free(reals);
    return roots;
}

/* Everything after the options: the settings, then --check or the scan of
 * the DIRs. Returns the exit status. */
static int scan(struct options *o, int argc, char **argv)
{
    struct tool_usage u = {.help = usage_text, .warn = log_warn};
    log_set_level((enum log_level)o->verbosity);
    tool_settings(&u, &o->r.cfg, &o->r.svc, argc, argv, !o->r.dry_run || o->check,
                  o->check ? (o->r.json ? TOOL_CHECK_JSON : TOOL_CHECK_TEXT) : TOOL_CHECK_NONE);
    if (u.end)
        return end_early(&u);
    char err[CFG_PATH_MAX + 256];
    if (log_configure((enum log_format)o->r.svc.log_format, o->r.svc.log_file, err, sizeof err) <
        0) {
        log_error("%s", err);
        return EXITCODE_CANTCREAT;
    }
    tool_catch_stop(on_signal);
    unsigned n = (unsigned)(argc - optind);
    struct scan_root *roots = open_roots(argv + optind, n);
    o->r.stop_signal = &stop_signal;
    o->r.stop_walk = &stop_walk;
    int code = run_scan(&o->r, roots, n);
    for (unsigned i = 0; i < n; i++) {
        close(roots[i].fd);
        free(roots[i].real);
    }
    free(roots);
    return code;
}

int main(int argc, char **argv)
{
    static struct options o;
    char err[256];

    const char *prog = getenv("SCANMOVE_PROG"); /* set by the scanmove command */
    log_init(prog != NULL && prog[0] != '\0' ? prog : "scan", LOG_LEVEL_WARN);
    service_catch_signals();
    /* The walk holds one descriptor per directory level (up to 2047 for a
     * 4095-byte path): take the whole hard limit, as the soft one is often
     * 1024 (systemd services, login shells). */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    int code = parse_options(argc, argv, &o);
    if (code < 0)
        code = scan(&o, argc, argv);
    int final = tool_finish_stdout(code, err, sizeof err);
    if (final != code)
        log_error("%s", err);
    return final;
}
