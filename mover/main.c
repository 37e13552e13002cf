/*
 * move - consume the queue and relocate each file it names, safely, from
 * any number of processes (see docs/move.1).
 *
 * This front end parses options and wires consume (delivery loop), fileop
 * (confined moves) and report (progress and summary) together; it is the
 * only place that exits.
 */
#include "cfg.h"
#include "clock.h"
#include "consume.h"
#include "dead.h"
#include "exitcode.h"
#include "log.h"
#include "mq.h"
#include "report.h"
#include "setup.h"
#include "status.h"
#include "tool.h"
#include "version.h"

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Measured with bench/move.sh: 2 movers gain up to 256, nothing beyond. */
#define PREFETCH_DEFAULT 256
#define PREFETCH_DEFAULT_S "256"

static const char usage_text[] =
    "Usage: move [OPTIONS] --from ROOT [--from ROOT...] --to DEST\n"
    "       move [OPTIONS] --check\n"
    "       move [OPTIONS] --dead [--reason R...]\n"
    "       move [OPTIONS] --requeue-dead [--reason R...] [--from ROOT...] [--to DEST]\n"
    "       move [OPTIONS] --purge-dead [--reason R...]\n"
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
    "      --layout TEMPLATE     where each file lands beneath DEST (default\n"
    "                            {path}), e.g. '{mime_type}/{mtime:%Y/%m}/{name}';\n"
    "                            placeholders in move(1)\n"
    "      --verify              also hash the source before a rename on one file\n"
    "                            system (a copy is always checked) and compare it\n"
    "                            with the hash of scan --checksum\n"
    "      --hash-xattr          store the verified hash on the destination file as\n"
    "                            the xattr " HASH_XATTR " (implies --verify)\n"
    "      --strict-metadata     dead-letter a copy whose destination refuses an\n"
    "                            extended attribute or ACL, instead of a warning\n"
    "      --publish-moved EXCHANGE[/KEY]  publish a moved event per file to\n"
    "                            EXCHANGE (key: the queue's name and .moved),\n"
    "                            confirmed before the file's message is acknowledged\n"
    "      --prune-empty-dirs    remove source directories a move left empty (never\n"
    "                            a root)\n"
    "      --prefetch N          messages the broker sends ahead (default " PREFETCH_DEFAULT_S ")\n"
    "      --count N             exit after handling N messages\n"
    "      --idle-exit DURATION  exit once the queue has been idle this long\n"
    "      --reconnect-timeout DURATION  give up on an unreachable or lost broker\n"
    "                            after this long (default: the --idle-exit\n"
    "                            duration, so cron runs cannot pile up; without\n"
    "                            --idle-exit, or 0: keep trying)\n"
    "      --json                print the summary as JSON on standard output\n"
    "      --check               report the queues' counts, creating nothing (as\n"
    "                            JSON with --json); exit 78 when the queue, the\n"
    "                            exchange or their dead-letter side is missing\n"
    "      --dead                list the dead letters as JSON lines, then exit\n"
    "      --requeue-dead        put the dead letters back on the queue (after\n"
    "                            fixing what failed them), dropping those whose\n"
    "                            file is gone, changed or at --to, then exit\n"
    "      --purge-dead          delete the dead letters, then exit\n"
    "      --reason R            only the dead letters of reason R (repeatable)\n"
    "      --dry-run             with --requeue-dead or --purge-dead: print what\n"
    "                            would be done to each letter, change nothing\n"
    "  -q, --quiet               print errors only\n"
    "  -v, --verbose             print one line per file handled\n"
    "  -h, --help                show this help and exit\n"
    "  -V, --version             show the version and exit\n"
    "\n" SERVICE_HELP_MOVE "\n" CFG_HELP "\n"
    "Exit status: 0 ok, every file moved or already moved (also after --count,\n"
    "--idle-exit, SIGINT or SIGTERM), 1 some files were dead-lettered, 64 usage\n"
    "(also a root given twice or inside another, or --to inside a root but not\n"
    "beneath a hidden directory), 66 no such root (also DEST deleted while\n"
    "running), 69 broker unreachable or lost for longer than\n"
    "--reconnect-timeout, 70 internal error, 73 --to missing, not a directory\n"
    "or on a read-only file system, or --log-file cannot be opened, 74 standard\n"
    "output not writable, 77\n"
    "authentication or access refused (broker), or a root or --to this user\n"
    "may not read, search or write, 78 configuration or topology mismatch.\n"
    "See move(1).\n";

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
    OPT_REQUEUE_DEAD,
    OPT_DEAD,
    OPT_PURGE_DEAD,
    OPT_REASON,
    OPT_DRY_RUN,
    OPT_LAYOUT,
    OPT_VERIFY,
    OPT_HASH_XATTR,
    OPT_STRICT_METADATA,
    OPT_PUBLISH_MOVED,
    OPT_PRUNE_EMPTY_DIRS
};

#define MAX_ROOTS 64 /* --from given at most this often */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

/* Say what ends the run before it starts (see struct tool_usage). */
static int end_early(const struct tool_usage *u)
{
    if (u->data != NULL)
        fputs(u->data, stdout);
    fputs(u->out, u->code == EXITCODE_OK ? stdout : stderr);
    return u->code;
}

struct options {
    struct cfg cfg;
    struct service_opts svc; /* --metrics, --log-format, --log-file */
    struct consume_opts co;
    const char *from[MAX_ROOTS], *to;
    char *dest_real; /* realpath(3) of --to */
    unsigned n_from;
    int check, json, requeue, list_dead, purge_dead, dry_run, verbosity;
    const char *reasons[DEAD_REASONS_MAX]; /* --reason */
    unsigned n_reasons;
    const char *layout;        /* --layout, as given */
    const char *publish_moved; /* --publish-moved, as given */
    int moving_only;           /* an option of moving was given (not for --check, --dead ...) */
};

/* Handle one of move's own options; 0 when opt is not one. */
static int parse_option(struct options *o, int opt, struct tool_usage *u)
{
    static const char *const conflict[] = {[FILEOP_RENAME] = "rename",
                                           [FILEOP_SKIP] = "skip",
                                           [FILEOP_FAIL] = "fail",
                                           [FILEOP_OVERWRITE] = "overwrite"};
    size_t i;
    switch (opt) {
    case OPT_CHECK:
        o->check = 1;
        break;
    case OPT_FROM:
        if (o->n_from == MAX_ROOTS)
            tool_usage_error(u, "too many --from roots (at most %d)", MAX_ROOTS);
        else
            o->from[o->n_from++] = optarg;
        break;
    case OPT_TO:
        o->to = optarg;
        break;
    case OPT_ON_CONFLICT:
        for (i = 0; i < sizeof conflict / sizeof conflict[0]; i++)
            if (strcmp(optarg, conflict[i]) == 0)
                break;
        if (i == sizeof conflict / sizeof conflict[0])
            tool_usage_error(u, "--on-conflict must be rename, skip, fail or overwrite, not '%s'",
                             optarg);
        o->co.fileop.conflict = (enum fileop_conflict)i;
        break;
    case OPT_FSYNC:
        o->co.fsync = 1;
        break;
    case OPT_PREFETCH:
        o->co.prefetch = (unsigned)tool_parse_num(u, "--prefetch", optarg, 1, 65535);
        break;
    case OPT_COUNT:
        o->co.count = tool_parse_num(u, "--count", optarg, 1, UINT64_MAX);
        break;
    case OPT_IDLE_EXIT:
        o->co.idle_exit_ms = tool_parse_duration(u, "--idle-exit", optarg);
        break;
    case OPT_RECONNECT_TIMEOUT:
        o->co.reconnect_timeout_ms = tool_parse_duration(u, "--reconnect-timeout", optarg);
        break;
    case OPT_JSON:
        o->json = 1;
        break;
    case OPT_REQUEUE_DEAD:
        o->requeue = 1;
        break;
    case OPT_DEAD:
        o->list_dead = 1;
        break;
    case OPT_PURGE_DEAD:
        o->purge_dead = 1;
        break;
    case OPT_REASON:
        if (o->n_reasons == DEAD_REASONS_MAX || optarg[0] == '\0')
            tool_usage_error(u, "--reason takes a reason, at most %d times", DEAD_REASONS_MAX);
        else
            o->reasons[o->n_reasons++] = optarg;
        break;
    case OPT_DRY_RUN:
        o->dry_run = 1;
        break;
    case OPT_LAYOUT:
        o->layout = optarg;
        break;
    case OPT_VERIFY:
        o->co.fileop.verify = o->moving_only = 1;
        break;
    case OPT_HASH_XATTR:
        o->co.fileop.hash_xattr = o->co.fileop.verify = o->moving_only = 1;
        break;
    case OPT_STRICT_METADATA:
        o->co.fileop.strict_metadata = o->moving_only = 1;
        break;
    case OPT_PUBLISH_MOVED:
        o->publish_moved = optarg;
        o->moving_only = 1;
        break;
    case OPT_PRUNE_EMPTY_DIRS:
        o->co.prune = o->moving_only = 1;
        break;
    default:
        return 0;
    }
    return 1;
}

/* The usage error of the whole command line, if any, into u. */
static void check_options(struct options *o, int argc, char **argv, struct tool_usage *u)
{
    char err[256];
    if (cfg_check_flags(&o->cfg, err, sizeof err) < 0)
        tool_usage_error(u, "%s", err);
    else if (optind < argc)
        tool_usage_error(u, "unexpected argument '%s'", argv[optind]);
    else if (o->check + o->requeue + o->list_dead + o->purge_dead > 1)
        tool_usage_error(u, "--check, --dead, --purge-dead and --requeue-dead cannot be used "
                            "together");
    else if ((o->check || o->list_dead || o->purge_dead) && (o->n_from > 0 || o->to != NULL))
        tool_usage_error(u, "--%s takes no --from or --to",
                         o->check       ? "check"
                         : o->list_dead ? "dead"
                                        : "purge-dead");
    else if (o->n_reasons > 0 && !o->requeue && !o->list_dead && !o->purge_dead)
        tool_usage_error(u, "--reason goes with --dead, --purge-dead or --requeue-dead");
    else if (o->dry_run && !o->requeue && !o->purge_dead)
        tool_usage_error(u, "--dry-run goes with --purge-dead or --requeue-dead");
    else if ((o->moving_only || (o->layout != NULL && !o->requeue)) &&
             (o->check || o->requeue || o->list_dead || o->purge_dead))
        tool_usage_error(u, "--layout, --verify, --hash-xattr, --strict-metadata, --publish-moved "
                            "and --prune-empty-dirs go with moving (--layout also with "
                            "--requeue-dead)");
    else if (o->json && o->list_dead)
        tool_usage_error(u, "--dead prints JSON lines; it takes no --json");
    else if (!o->check && !o->requeue && !o->list_dead && !o->purge_dead &&
             (o->n_from == 0 || o->to == NULL))
        tool_usage_error(u, "%s",
                         o->n_from == 0 ? "no --from root given" : "no --to directory given");
}

/* The options from argv into o. Returns -1 to go on, or the exit status
 * (after --help, --version, or a usage error, printed). */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        CFG_LONG_OPTIONS TOOL_LONG_OPTIONS SERVICE_LONG_OPTIONS /* shared flags, -h -q -v -V */
        {"check", no_argument, NULL, OPT_CHECK},
        {"count", required_argument, NULL, OPT_COUNT},
        {"dead", no_argument, NULL, OPT_DEAD},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"hash-xattr", no_argument, NULL, OPT_HASH_XATTR},
        {"layout", required_argument, NULL, OPT_LAYOUT},
        {"prune-empty-dirs", no_argument, NULL, OPT_PRUNE_EMPTY_DIRS},
        {"publish-moved", required_argument, NULL, OPT_PUBLISH_MOVED},
        {"strict-metadata", no_argument, NULL, OPT_STRICT_METADATA},
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"from", required_argument, NULL, OPT_FROM},
        {"fsync", no_argument, NULL, OPT_FSYNC},
        {"idle-exit", required_argument, NULL, OPT_IDLE_EXIT},
        {"json", no_argument, NULL, OPT_JSON},
        {"on-conflict", required_argument, NULL, OPT_ON_CONFLICT},
        {"prefetch", required_argument, NULL, OPT_PREFETCH},
        {"purge-dead", no_argument, NULL, OPT_PURGE_DEAD},
        {"reason", required_argument, NULL, OPT_REASON},
        {"reconnect-timeout", required_argument, NULL, OPT_RECONNECT_TIMEOUT},
        {"requeue-dead", no_argument, NULL, OPT_REQUEUE_DEAD},
        {"to", required_argument, NULL, OPT_TO},
        {NULL, 0, NULL, 0},
    };
    struct tool_usage u = {.help = usage_text};
    int opt;

    cfg_defaults(&o->cfg);
    o->svc.metrics_interval_ms = 15000;
    o->co.prefetch = PREFETCH_DEFAULT;
    o->co.reconnect_timeout_ms = UINT64_MAX; /* not given */
    o->verbosity = LOG_LEVEL_WARN;
    opterr = 0;
    while (!u.end && (opt = getopt_long(argc, argv, ":hqvV", longopts, NULL)) != -1)
        if (!parse_option(o, opt, &u))
            tool_common_option(&u, &o->cfg, &o->svc, &o->verbosity, opt, argv);
    if (!u.end)
        check_options(o, argc, argv, &u);
    if (!u.end && o->layout != NULL) {
        char err[512];
        struct layout *l = layout_parse(o->layout, err, sizeof err);
        if (l == NULL)
            tool_usage_error(&u, "%s", err);
        else if (layout_is_identity(l))
            layout_free(l); /* {path}: nothing to expand */
        else
            o->co.layout = l;
    }
    /* A mover run from cron with --idle-exit must end even when the broker
     * is down, or the next instances pile up behind it: unless told
     * otherwise, it waits for the broker no longer than for a message. */
    if (o->co.reconnect_timeout_ms == UINT64_MAX)
        o->co.reconnect_timeout_ms = o->co.idle_exit_ms;
    return u.end ? end_early(&u) : -1;
}

/* Open --to and each --from into o->co (roots: MAX_ROOTS entries), or
 * exit with the sentence and status of a setup that cannot work (see
 * setup.h); a usage error (64) also says "Try 'move --help'". */
static void open_dirs(struct options *o, struct consume_root *roots)
{
    struct tool_usage u = {.help = usage_text};
    char err[2 * PATH_MAX + 512];
    int code = setup_open_dirs(o->to, o->from, o->n_from, &o->co.dest_fd, &o->dest_real, roots, err,
                               sizeof err);
    if (code == EXITCODE_USAGE) {
        tool_usage_error(&u, "%s", err);
        exit(end_early(&u));
    } else if (code != EXITCODE_OK) {
        log_error("%s", err);
        exit(code);
    }
    o->co.dest_path = o->dest_real;
    o->co.roots = roots;
    o->co.n_roots = o->n_from;
}

/* move --dead, --purge-dead or --requeue-dead; the exit status. */
static int run_dead(struct options *o, const char *name)
{
    static struct dead_opts d;
    static struct consume_root roots[MAX_ROOTS];
    static struct dead_stats st;
    char err[1024];
    d.cfg = &o->cfg;
    d.conn_name = name;
    d.mode = o->list_dead ? DEAD_LIST : o->purge_dead ? DEAD_PURGE : DEAD_REQUEUE;
    memcpy(d.reasons, o->reasons, sizeof d.reasons);
    d.n_reasons = o->n_reasons;
    d.dest_fd = -1;
    d.layout = o->co.layout;
    int code = 0;
    for (unsigned i = 0; i < o->n_from && code == 0; i++)
        code = setup_open_dir("--from", o->from[i], EXITCODE_NOINPUT, &roots[i].fd, &roots[i].real,
                              err, sizeof err);
    if (code == 0 && o->to != NULL)
        code = setup_open_dir("--to", o->to, EXITCODE_CANTCREAT, &d.dest_fd, &o->dest_real, err,
                              sizeof err);
    if (code != 0) {
        log_error("%s", err);
        return code;
    }
    d.roots = roots;
    d.n_roots = o->n_from;
    d.limit = o->co.count;
    d.dry_run = o->dry_run;
    d.stop = &stop_signal;
    d.lines = stdout;
    tool_catch_stop(on_signal);
    enum mq_status s = dead_run(&d, &st, err, sizeof err);
    dead_report(&d, &st, o->json ? stdout : NULL);
    if (s != MQ_OK)
        log_error("%s", err);
    for (unsigned i = 0; i < o->n_from; i++) {
        close(roots[i].fd);
        free(roots[i].real);
    }
    if (d.dest_fd >= 0)
        close(d.dest_fd);
    free(o->dest_real);
    return s == MQ_OK && st.out_errno != 0 ? EXITCODE_IOERR : mq_exitcode(s);
}

/* Consume until done; the exit status. */
static int run(struct options *o, const char *name)
{
    static struct consume_root roots[MAX_ROOTS];
    static struct consume_stats st;
    char err[1024];
    open_dirs(o, roots);
    o->co.cfg = &o->cfg;
    o->co.conn_name = name;
    o->co.stop = &stop_signal;
    o->co.progress = status_tick;
    o->co.queue_info_ms = o->svc.metrics[0] != '\0' ? o->svc.metrics_interval_ms : 0;
    status_start(&o->svc, &o->cfg, &stop_signal);
    /* Testing aid: copy as on filesystems without O_TMPFILE (NFS, CIFS). */
    const char *nt = getenv("SCANMOVE_TEST_NAMED_TEMP");
    o->co.fileop.named_temp = nt != NULL && strcmp(nt, "1") == 0;

    tool_catch_stop(on_signal);
    if (o->publish_moved != NULL &&
        (o->co.events = events_new(o->publish_moved, &o->cfg, err, sizeof err)) == NULL) {
        struct tool_usage u = {.help = usage_text};
        tool_usage_error(&u, "%s", err);
        setup_close_dirs(o->co.dest_fd, o->dest_real, roots, o->n_from);
        return end_early(&u);
    }
    double t0 = mono_now();
    enum mq_status s = consume_run(&o->co, &st, err, sizeof err);
    events_free(o->co.events);
    report_summary(&st, mono_now() - t0, o->json ? stdout : NULL);
    int code = EXITCODE_OK;
    if (s != MQ_OK) {
        log_error("%s", err);
        code = mq_exitcode(s);
    } else if (st.local_exit != 0) {
        log_error("%s", err);
        code = st.local_exit;
    } else if (st.dead > 0) { /* as rsync's 23: cron mails the operator */
        code = EXITCODE_SOME_FAILED;
    }
    setup_close_dirs(o->co.dest_fd, o->dest_real, roots, o->n_from);
    return code;
}

int main(int argc, char **argv)
{
    static struct options o;
    char err[CFG_PATH_MAX + 256], name[300];

    const char *prog = getenv("SCANMOVE_PROG"); /* set by the scanmove command */
    log_init(prog != NULL && prog[0] != '\0' ? prog : "move", LOG_LEVEL_WARN);
    service_catch_signals();
    int code = parse_options(argc, argv, &o);
    if (code < 0) {
        struct tool_usage u = {.help = usage_text, .warn = log_warn};
        log_set_level((enum log_level)o.verbosity);
        tool_settings(&u, &o.cfg, &o.svc, argc, argv, 1,
                      o.check ? (o.json ? TOOL_CHECK_JSON : TOOL_CHECK_TEXT) : TOOL_CHECK_NONE);
        tool_conn_name("move", name, sizeof name);
        if (!u.end &&
            log_configure((enum log_format)o.svc.log_format, o.svc.log_file, err, sizeof err) < 0) {
            log_error("%s", err);
            return EXITCODE_CANTCREAT;
        }
        code = u.end                                      ? end_early(&u)
               : o.requeue || o.list_dead || o.purge_dead ? run_dead(&o, name)
                                                          : run(&o, name);
    }
    int final = tool_finish_stdout(code, err, sizeof err);
    if (final != code)
        log_error("%s", err);
    return final;
}
