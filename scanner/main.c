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
#include "log.h"
#include "mq.h"
#include "msg.h"
#include "opts.h"
#include "pipeline.h"
#include "publish.h"
#include "report.h"
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
    "      --check               connect, declare the queues, report their counts\n"
    "  -h, --help                show this help and exit\n"
    "  -V, --version             show the version and exit\n"
    "\n" CFG_HELP "\n"
    "Exit status: 0 every accepted file confirmed, 1 some files failed, 64 usage\n"
    "(also a DIR given twice or inside another), 66 no such directory, 69 broker\n"
    "unreachable or lost, 70 internal error, 75 broker blocked publishing,\n"
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
    OPT_BLOCKED_TIMEOUT
};

/* A signal sets both; a broker lost for good ends only the walk. The
 * publisher watches stop_signal alone, the walk and the inspection threads
 * stop_walk. */
static volatile sig_atomic_t stop_signal, stop_walk;

#define PUBLISH_BURST 512 /* accepted files published together */

static void on_signal(int sig)
{
    stop_signal = sig;
    stop_walk = 1;
}

static void usage_exit(const struct tool_usage *u) __attribute__((noreturn));
static void usage_exit(const struct tool_usage *u)
{
    log_error("%s", u->msg);
    exit(u->code);
}

static int finish_stdout(int code)
{
    char err[256];
    int final = tool_finish_stdout(code, err, sizeof err);
    if (final != code)
        log_error("%s", err);
    return final;
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
    struct cfg cfg;
    struct inspect_rules rules;
    struct walk_opts walk;
    struct strlist include, exclude, mime;
    int check, dry_run, json, verbosity, jobs_given;
    const char *rejects;
    uint64_t jobs, window, reconnect_ms, blocked_ms, min_age_ms, max_age_ms;
};

static void set_defaults(struct options *o)
{
    cfg_defaults(&o->cfg);
    o->rules.max_size = UINT64_MAX;
    o->rules.want_mime = 1;
    o->verbosity = LOG_LEVEL_WARN;
    o->window = 4096;
    o->reconnect_ms = 30000;
    o->blocked_ms = 300000;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o->jobs = cpus > 0 ? (uint64_t)cpus : 1;
    if (o->jobs > 256)
        o->jobs = 256;
}

/* Handle one of scan's own options; 0 when opt is not one. */
static int parse_option(struct options *o, int opt, struct tool_usage *u)
{
    switch (opt) {
    case OPT_CHECK:
        o->check = 1;
        break;
    case OPT_MAX_DEPTH:
        o->walk.max_depth = (unsigned)tool_parse_num(u, "--max-depth", optarg, 1, UINT_MAX);
        break;
    case OPT_ONE_FS:
        o->walk.one_file_system = 1;
        break;
    case OPT_HIDDEN:
        o->walk.hidden = 1;
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
        o->rules.min_size = tool_parse_size(u, "--min-size", optarg);
        break;
    case OPT_MAX_SIZE:
        o->rules.max_size = tool_parse_size(u, "--max-size", optarg);
        break;
    case OPT_MIN_AGE:
        o->rules.has_min_age = 1;
        o->min_age_ms = tool_parse_duration(u, "--min-age", optarg);
        break;
    case OPT_MAX_AGE:
        o->rules.has_max_age = 1;
        o->max_age_ms = tool_parse_duration(u, "--max-age", optarg);
        break;
    case OPT_NO_MIME:
        o->rules.want_mime = 0;
        break;
    case OPT_READABLE:
        o->rules.readable = 1;
        break;
    case OPT_DRY_RUN:
        o->dry_run = 1;
        break;
    case OPT_REJECTS:
        o->rejects = optarg;
        break;
    case OPT_JSON:
        o->json = 1;
        break;
    case 'j':
        o->jobs = tool_parse_num(u, "--jobs", optarg, 1, 256);
        o->jobs_given = 1;
        break;
    case OPT_WINDOW:
        o->window = tool_parse_num(u, "--confirm-window", optarg, 1, 1000000);
        break;
    case OPT_RECONNECT_TIMEOUT:
        o->reconnect_ms = tool_parse_duration(u, "--reconnect-timeout", optarg);
        break;
    case OPT_BLOCKED_TIMEOUT:
        o->blocked_ms = tool_parse_duration(u, "--blocked-timeout", optarg);
        break;
    case 'h':
        fputs(usage_text, stdout);
        exit(finish_stdout(EXITCODE_OK));
    case 'V':
        printf("scan (scanmove) %s\n", SCANMOVE_VERSION);
        exit(finish_stdout(EXITCODE_OK));
    default:
        return 0;
    }
    return 1;
}

/* The options from argv into o; exit 64 on a usage error. */
static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        CFG_LONG_OPTIONS,
        {"blocked-timeout", required_argument, NULL, OPT_BLOCKED_TIMEOUT},
        {"check", no_argument, NULL, OPT_CHECK},
        {"confirm-window", required_argument, NULL, OPT_WINDOW},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"exclude", required_argument, NULL, OPT_EXCLUDE},
        {"help", no_argument, NULL, 'h'},
        {"hidden", no_argument, NULL, OPT_HIDDEN},
        {"include", required_argument, NULL, OPT_INCLUDE},
        {"jobs", required_argument, NULL, 'j'},
        {"json", no_argument, NULL, OPT_JSON},
        {"max-age", required_argument, NULL, OPT_MAX_AGE},
        {"max-depth", required_argument, NULL, OPT_MAX_DEPTH},
        {"max-size", required_argument, NULL, OPT_MAX_SIZE},
        {"mime", required_argument, NULL, OPT_MIME},
        {"min-age", required_argument, NULL, OPT_MIN_AGE},
        {"min-size", required_argument, NULL, OPT_MIN_SIZE},
        {"no-mime", no_argument, NULL, OPT_NO_MIME},
        {"one-file-system", no_argument, NULL, OPT_ONE_FS},
        {"quiet", no_argument, NULL, 'q'},
        {"readable", no_argument, NULL, OPT_READABLE},
        {"reconnect-timeout", required_argument, NULL, OPT_RECONNECT_TIMEOUT},
        {"rejects", required_argument, NULL, OPT_REJECTS},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct tool_usage u = {0};
    char err[1024];
    int opt;

    set_defaults(o);
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":hj:qvV", longopts, NULL)) != -1) {
        if (!parse_option(o, opt, &u))
            tool_common_option(&u, &o->cfg, &o->verbosity, opt, argv);
        if (u.code != 0)
            usage_exit(&u);
    }
    if (cfg_check_flags(&o->cfg, err, sizeof err) < 0)
        tool_usage_error(&u, "%s", err);
    else if (o->rules.min_size > o->rules.max_size)
        tool_usage_error(&u, "--min-size is larger than --max-size");
    else if (o->check && optind < argc)
        tool_usage_error(&u, "--check takes no directories");
    else if (!o->check && optind == argc)
        tool_usage_error(&u, "no directory to scan");
    if (u.code != 0)
        usage_exit(&u);
    const char *env_jobs = getenv("SCANMOVE_JOBS");
    if (!o->jobs_given && env_jobs != NULL && *env_jobs != '\0') {
        if (opts_parse_u64(env_jobs, 1, 256, &o->jobs, err, sizeof err) < 0) {
            log_error("SCANMOVE_JOBS: %s", err);
            exit(EXITCODE_CONFIG);
        }
    }
    o->rules.include = o->include.v;
    o->rules.exclude = o->exclude.v;
    o->rules.mime = o->mime.v;
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
        roots[i].arg = dirs[i];
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
    struct tool_usage u = {0};
    switch (tool_dirs_nested(fds, reals, n, &inner, &outer, err, sizeof err)) {
    case TOOL_NEST_NONE:
        break;
    case TOOL_NEST_INSIDE:
        tool_usage_error(&u, "%s is inside %s: give each directory once", dirs[inner], dirs[outer]);
        usage_exit(&u);
    case TOOL_NEST_SAME:
        tool_usage_error(&u, "%s and %s are the same directory: give each directory once",
                         dirs[outer], dirs[inner]);
        usage_exit(&u);
    case TOOL_NEST_ERROR:
        log_error("%s", err);
        exit(EXITCODE_NOINPUT);
    }
    free(fds);
    free(reals);
    return roots;
}

/* Everything the main loop needs, for the publisher's callbacks. */
struct scan {
    struct options *o;
    struct scan_root *roots;
    struct report report;
    struct publisher *pub;
    /* The publisher keeps this name for its reconnections: it must live as
     * long as the run. */
    char name[300];
    char host[MSG_HOST_MAX + 1];
    char body[MSG_MAX_BYTES];
};

/* The broker's final word on one message. */
static void on_done(void *arg, void *cookie, int ok, const char *reason)
{
    struct scan *s = arg;
    struct item *it = cookie;
    const struct scan_root *r = &s->roots[it->root];
    report_outcome(&s->report, ok ? REPORT_PUBLISHED : REPORT_FAILED, r->real, r->real_len,
                   it->path, it->path_len, reason, NULL, (uint64_t)it->st.st_size);
    item_free(it);
}

static void on_tick(void *arg)
{
    struct scan *s = arg;
    report_progress(&s->report, 0);
}

/* Build the message for an accepted item into s->body. */
static int build(struct scan *s, const struct item *it, struct msg *m, size_t *len)
{
    const struct scan_root *r = &s->roots[it->root];
    char err[256];
    struct tm tm;
    memset(m, 0, sizeof *m);
    m->v = MSG_VERSION;
    memcpy(m->root, r->real, r->real_len + 1);
    m->root_len = r->real_len;
    memcpy(m->path, it->path, it->path_len + 1);
    m->path_len = it->path_len;
    m->size = (uint64_t)it->st.st_size;
    m->mtime_sec = it->st.st_mtim.tv_sec;
    m->mtime_nsec = (uint32_t)it->st.st_mtim.tv_nsec;
    m->dev = it->st.st_dev;
    m->ino = it->st.st_ino;
    m->mode = it->st.st_mode;
    m->uid = it->st.st_uid;
    m->gid = it->st.st_gid;
    memcpy(m->mime, it->mime, sizeof m->mime);
    gmtime_r(&it->seen.tv_sec, &tm);
    size_t n = strftime(m->scanned_at, sizeof m->scanned_at, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(m->scanned_at + n, sizeof m->scanned_at - n, ".%03ldZ", it->seen.tv_nsec / 1000000);
    memcpy(m->host, s->host, sizeof m->host);
    msg_make_id(m);
    if (msg_encode(m, s->body, sizeof s->body, len, err, sizeof err) < 0) {
        log_error("internal error encoding %s: %s", it->path, err);
        return -1;
    }
    return 0;
}

static struct timespec ts_minus_ms(struct timespec t, uint64_t ms)
{
    t.tv_sec -= (time_t)(ms / 1000);
    t.tv_nsec -= (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec < 0) {
        t.tv_nsec += 1000000000L;
        t.tv_sec--;
    }
    return t;
}

/* Publish (or, in a dry run, print) one accepted item; it is reported and
 * freed now, or once the broker has had its say. */
static void publish_item(struct scan *s, struct item *it, enum mq_status *st, char *err,
                         size_t errlen)
{
    const struct scan_root *root = &s->roots[it->root];
    struct msg m;
    size_t len;
    if (build(s, it, &m, &len) < 0) {
        report_outcome(&s->report, REPORT_FAILED, root->real, root->real_len, it->path,
                       it->path_len, "io-error", "cannot encode the message", 0);
        item_free(it);
    } else if (s->o->dry_run) {
        s->body[len] = '\n';
        fwrite(s->body, 1, len + 1, stdout);
        report_outcome(&s->report, REPORT_PUBLISHED, NULL, 0, NULL, 0, NULL, NULL, m.size);
        item_free(it);
    } else if (*st != MQ_OK) {
        /* The broker is gone for good: what is left is not published. */
        report_outcome(&s->report, REPORT_FAILED, root->real, root->real_len, it->path,
                       it->path_len, "unconfirmed", "not published: broker lost", 0);
        item_free(it);
    } else {
        *st = publish_send(s->pub, s->body, len, m.id, (uint64_t)it->seen.tv_sec, it, err, errlen);
        if (*st != MQ_OK)
            stop_walk = 1;
    }
}

/* Open the DIRs, --rejects and the publisher; 0, or the exit status. */
static int scan_open(struct scan *s, struct options *o, char **dirs, unsigned n_dirs)
{
    char err[1024];
    s->o = o;
    s->roots = open_roots(dirs, n_dirs);
    if (gethostname(s->host, sizeof s->host) != 0)
        snprintf(s->host, sizeof s->host, "localhost");
    s->host[sizeof s->host - 1] = '\0';

    report_init(&s->report);
    s->report.dry_run = o->dry_run;
    s->report.verbose = o->verbosity >= LOG_LEVEL_INFO;
    s->report.progress = log_progress_enabled();
    if (o->rejects != NULL) {
        s->report.rejects = strcmp(o->rejects, "-") == 0 ? stdout : fopen(o->rejects, "w");
        if (s->report.rejects == NULL) {
            log_error("cannot write %s: %s", o->rejects, strerror(errno));
            return EXITCODE_IOERR;
        }
    }

    /* Ages are measured from the start of the scan. */
    struct timespec start;
    clock_gettime(CLOCK_REALTIME, &start);
    o->rules.young_after = ts_minus_ms(start, o->min_age_ms);
    o->rules.old_before = ts_minus_ms(start, o->max_age_ms);

    if (o->dry_run)
        return 0;
    tool_conn_name("scan", s->name, sizeof s->name);
    struct publish_opts po = {&o->cfg,    s->name, (unsigned)o->window, o->reconnect_ms,
                              o->blocked_ms, on_done, s,                on_tick,
                              &stop_signal};
    enum mq_status st = publish_open(&po, &s->pub, err, sizeof err);
    if (st != MQ_OK) {
        log_error("%s", err);
        return mq_exitcode(st);
    }
    return 0;
}

/* Take the pipeline's items until it ends: report rejects and failures,
 * publish accepted files. *st: the broker's state, err its sentence. */
static void scan_loop(struct scan *s, struct pipeline *p, enum mq_status *st, char *err,
                      size_t errlen)
{
    /* Accepted files are published in bursts: the broker spends several
     * times less CPU per message on a burst than on messages trickling in
     * one by one, and it shares the machine with the inspection threads. */
    struct item *batch[PUBLISH_BURST];
    size_t held = 0;
    for (;;) {
        struct item *it;
        int r = pipeline_next(p, held > 0 ? 20 : 200, &it);
        if (r <= 0 || held == PUBLISH_BURST) {
            if (held > 0 && s->pub != NULL)
                publish_burst(s->pub, 1);
            for (size_t i = 0; i < held; i++)
                publish_item(s, batch[i], st, err, errlen);
            if (held > 0 && s->pub != NULL)
                publish_burst(s->pub, 0);
            held = 0;
        }
        if (r < 0)
            break;
        if (r == 0) {
            /* Idle: keep the connection alive and confirms flowing. */
            if (s->pub != NULL && *st == MQ_OK &&
                (*st = publish_poll(s->pub, err, errlen)) != MQ_OK)
                stop_walk = 1;
            report_progress(&s->report, 0);
            continue;
        }
        if (it->kind != ITEM_ACCEPT) {
            const struct scan_root *root = &s->roots[it->root];
            report_outcome(&s->report, it->kind == ITEM_REJECT ? REPORT_REJECTED : REPORT_FAILED,
                           root->real, root->real_len, it->path, it->path_len, it->reason,
                           it->detail, 0);
            item_free(it);
        } else if (s->o->dry_run) {
            publish_item(s, it, st, err, errlen);
        } else {
            batch[held++] = it;
        }
        report_progress(&s->report, 0);
    }
}

/* The exit status of a finished scan, with its summary and the last word
 * on --rejects. */
static int scan_close(struct scan *s, enum mq_status st, const char *err)
{
    int code = EXITCODE_OK;
    report_finish(&s->report);
    if (st != MQ_OK) {
        /* One sentence for every file the broker did not confirm: those in
         * flight when it went and those that never got to it. */
        uint64_t n = report_count(&s->report, "unconfirmed");
        log_error("%s: %s: %llu message%s not confirmed",
                  st == MQ_ERR_BLOCKED ? "gave up publishing"
                  : mq_transient(st)   ? "lost the broker"
                                       : "stopped publishing",
                  err, (unsigned long long)n, n == 1 ? " was" : "s were");
        code = mq_exitcode(st);
    } else if (stop_signal)
        code = 128 + stop_signal;
    else if (s->report.failed > 0)
        code = EXITCODE_SOME_FAILED;
    if (s->o->json)
        report_json(&s->report, stdout);
    if (s->report.rejects == stdout && s->report.rejects_error) {
        /* report.c stopped writing after the first error; say it here,
         * since the final fclose(stdout) may well succeed. */
        log_error("cannot write to standard output: %s", strerror(s->report.rejects_error));
        if (code == EXITCODE_OK || code == EXITCODE_SOME_FAILED)
            code = EXITCODE_IOERR;
    }
    if (s->report.rejects != NULL && s->report.rejects != stdout &&
        (fclose(s->report.rejects) != 0 || s->report.rejects_error)) {
        log_error("cannot write %s: %s", s->o->rejects,
                  strerror(s->report.rejects_error ? s->report.rejects_error : errno));
        if (code == EXITCODE_OK)
            code = EXITCODE_IOERR;
    }
    return code;
}

static int run(struct options *o, char **dirs, unsigned n_dirs)
{
    static struct scan s; /* large: the message buffer */
    char err[1024];
    enum mq_status st = MQ_OK;

    int code = scan_open(&s, o, dirs, n_dirs);
    if (code != 0)
        return code;
    struct pipeline p;
    memset(&p, 0, sizeof p);
    p.roots = s.roots;
    p.n_roots = n_dirs;
    p.rules = &o->rules;
    p.walk = o->walk;
    p.walk.stop = &stop_walk;
    p.jobs = (unsigned)o->jobs;
    p.stop = &stop_walk;
    if (pipeline_start(&p, err, sizeof err) < 0) {
        log_error("%s", err);
        return EXITCODE_SOFTWARE;
    }
    scan_loop(&s, &p, &st, err, sizeof err);
    pipeline_join(&p);
    if (s.pub != NULL && st == MQ_OK)
        st = publish_flush(s.pub, err, sizeof err);
    publish_close(s.pub);
    code = scan_close(&s, st, err);
    for (unsigned i = 0; i < n_dirs; i++) {
        close(s.roots[i].fd);
        free(s.roots[i].real);
    }
    free(s.roots);
    return code;
}

int main(int argc, char **argv)
{
    static struct options o;
    char err[1024], warn[256];

    log_init("scan", LOG_LEVEL_WARN);
    signal(SIGPIPE, SIG_IGN);
    /* The walk holds one descriptor per directory level (up to 2047 for a
     * 4095-byte path): take the whole hard limit, as the soft one is often
     * 1024 (systemd services, login shells). */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    parse_options(argc, argv, &o);
    log_set_level((enum log_level)o.verbosity);
    int code = tool_load_cfg(&o.cfg, argc, argv, !o.dry_run, warn, sizeof warn, err, sizeof err);
    if (warn[0] != '\0')
        log_warn("%s", warn);
    if (code != 0) {
        log_error("%s", err);
        return code;
    }

    if (o.check) {
        char report[1024];
        code = tool_check(&o.cfg, report, sizeof report, err, sizeof err);
        if (code == EXITCODE_OK)
            printf("%s\n", report);
        else
            log_error("%s", err);
        return finish_stdout(code);
    }
    tool_catch_stop(on_signal);
    return finish_stdout(run(&o, argv + optind, (unsigned)(argc - optind)));
}
