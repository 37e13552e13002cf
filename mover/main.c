/*
 * move - consume the queue and relocate each file it names, safely, from
 * any number of processes (see docs/move.1).
 *
 * This front end parses options and wires the common library together;
 * it is the only place that prints results or exits.
 */
#include "cfg.h"
#include "exitcode.h"
#include "log.h"
#include "mq.h"
#include "tool.h"
#include "version.h"

#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "Usage: move [OPTIONS] --check\n"
    "Consume the scanmove queue and move each file it names from a --from root\n"
    "to the --to directory, keeping its relative path; run as many as you like.\n"
    "\n"
    "This version only checks the broker: moving files comes next.\n"
    "\n"
    "      --check               connect, declare the exchanges and queues, report\n"
    "                            the queue's counts on stdout, and exit\n"
    "  -q, --quiet               print errors only\n"
    "  -v, --verbose             print more about what is done (repeat for more)\n"
    "  -h, --help                show this help and exit\n"
    "  -V, --version             show the version and exit\n"
    "\n" CFG_HELP "\n"
    "Exit status: 0 ok, 1 some files failed, 64 usage, 66 no such root,\n"
    "69 broker unreachable, 70 internal error, 77 authentication or access refused,\n"
    "78 configuration or topology mismatch. See move(1).\n";

enum { OPT_CHECK = 2000 };

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
        log_error("cannot write to standard output");
        return EXITCODE_IOERR;
    }
    return code;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        CFG_LONG_OPTIONS,
        {"check", no_argument, NULL, OPT_CHECK},
        {"help", no_argument, NULL, 'h'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct cfg c;
    char err[1024];
    int check = 0, verbosity = LOG_LEVEL_WARN;

    log_init("move", LOG_LEVEL_WARN);
    signal(SIGPIPE, SIG_IGN);
    cfg_defaults(&c);

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
    if (cfg_from_env(&c, err, sizeof err) < 0) {
        log_error("%s", err);
        return EXITCODE_CONFIG;
    }
    if (cfg_hide_argv_password(argc, argv))
        log_warn("a password in --url is visible to other users; use --url-file or AMQP_URL");
    if (c.url_flag[0] != '\0' && c.url_file[0] != '\0')
        usage_error("--url and --url-file cannot be used together");
    if (!check)
        usage_error("%s", optind < argc ? "moving files is not available in this version; "
                                          "use --check"
                                        : "nothing to do: use --check");
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (cfg_finish(&c, err, sizeof err) < 0) {
        log_error("%s", err);
        return EXITCODE_CONFIG;
    }

    char name[300], report[1024];
    tool_conn_name("move", name, sizeof name);
    enum mq_status s = tool_check(&c, name, report, sizeof report, err, sizeof err);
    if (s != MQ_OK) {
        log_error("%s", err);
        return finish_stdout(mq_exitcode(s));
    }
    printf("%s\n", report);
    return finish_stdout(EXITCODE_OK);
}
