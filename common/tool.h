/*
 * tool.h - what the scan and move front ends share beyond the broker
 * settings: the --check command and the conventions of main().
 *
 * Library code: it returns statuses and fills buffers; printing and
 * exiting stay in each tool's main.c.
 */
#ifndef SCANMOVE_TOOL_H
#define SCANMOVE_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "service.h"

struct mq; /* mq.h */

/* What --check prints: nothing (no --check), a line, or a JSON object. */
enum tool_check_mode { TOOL_CHECK_NONE = 0, TOOL_CHECK_TEXT, TOOL_CHECK_JSON };

/*
 * tool_check - for --check: connect as log_prog() (see tool_conn_name) to
 * each broker of c's list alone (mq_connect_node), then, through the first
 * that answered, look at the topology without creating anything
 * (mq_inspect_topology). With TOOL_CHECK_TEXT, write into out (outlen
 * bytes) the report, each line ending in a newline: with one broker the
 * line "amqp://guest@h:5672/ (RabbitMQ 3.10.8): queue 'files' (quorum) has
 * 12 messages and 2 consumers; 'files.dead' has 0 messages"; with several,
 * a line per broker ("URL: reachable (ADDRESS, VERSION, cluster NAME)" or
 * "URL: STATE: why", STATE one of unreachable, timeout, refused,
 * tls-failure, not-amqp, error), then "queue 'files' (quorum) has ...";
 * and "the oldest waiting message was published N s ago" when known;
 * "" when nothing could be looked at. With TOOL_CHECK_JSON, write into out,
 * on success and on failure alike, one JSON object and a newline: "broker"
 * (the URL used, without its password), "server_version", "cluster_name",
 * "exchange", "queue", "queue_type", "routing_key", "messages",
 * "consumers", "dead_letter_queue", "dead_letter_messages",
 * "dead_letter_consumers" (null where unknown), "oldest_message_age_seconds"
 * (by the timestamp of the message at the head, looked at where that
 * changes neither order nor delivery counts (mq_peek_timestamp); null when
 * empty or unknown, and then "oldest_message_age_unknown" says why when
 * messages wait), "nodes" (an array of objects "url", "state", "address",
 * "server_version", "cluster_name", "error"), and on failure "error", the
 * sentence. Returns EXITCODE_OK when every broker answered and the topology
 * checks out; else the exit status (mq_exitcode) of the topology's failure,
 * or of the first broker that failed, with a sentence in err such as "1 of
 * 3 brokers failed the check; URL: connection refused".
 */
int tool_check(const struct cfg *c, enum tool_check_mode mode, char *out, size_t outlen, char *err,
               size_t errlen);

/*
 * tool_check_json_error - the JSON object of a --check --json that failed
 * before any broker was tried (bad settings), with error, into out.
 */
void tool_check_json_error(const struct cfg *c, const char *error, char *out, size_t outlen);

/*
 * tool_describe_connection - which broker m reached, for the log, into out:
 * "amqp://guest@h:5672/ (127.0.0.1:5672, RabbitMQ 3.10.8, cluster rabbit@h)".
 */
void tool_describe_connection(const struct mq *m, char *out, size_t outlen);

/*
 * tool_conn_name - write "prog@host:pid" into out, the connection name
 * shown by the broker, so an operator can tell the movers apart.
 */
void tool_conn_name(const char *prog, char *out, size_t outlen);

/*
 * tool_open_dir - open a directory named on the command line: *fd
 * (O_RDONLY | O_DIRECTORY, close-on-exec) and *real, its realpath(3),
 * malloc'ed for the caller to free. A directory that may be read but not
 * searched is refused too, since no name beneath it could be opened.
 * Returns 0; or, with nothing left open and a sentence in err such as
 * "DIR: Permission denied", EXITCODE_NOPERM when access is refused and
 * EXITCODE_NOINPUT when path does not exist, is not a directory, or fails
 * otherwise.
 */
int tool_open_dir(const char *path, int *fd, char **real, char *err, size_t errlen);

enum tool_nest {
    TOOL_NEST_ERROR = -1, /* a directory could not be examined; see err */
    TOOL_NEST_NONE = 0,   /* no directory is, or lies inside, another */
    TOOL_NEST_INSIDE,     /* directory *inner lies inside directory *outer */
    TOOL_NEST_SAME        /* directories *outer and *inner are one */
};

/*
 * tool_dirs_nested - find two of the n directories given on a command line
 * of which one is the other or lies beneath it, since a tool handed both
 * would see their common files twice. fds[i] is the open directory and
 * reals[i] its realpath(3) (absolute, no symbolic links); neither is
 * changed. Directories are compared by device and inode: each against the
 * others and against every ancestor of the others (the directories the
 * leading components of reals[i] name), so the same directory reached
 * through a symbolic link, "..", a bind mount or another spelling counts.
 * Returns TOOL_NEST_NONE; TOOL_NEST_INSIDE or TOOL_NEST_SAME with the two
 * indexes in *inner and *outer (for TOOL_NEST_SAME, *outer < *inner); or
 * TOOL_NEST_ERROR with a sentence in err (out of memory, or an ancestor
 * that vanished since realpath). n == 0 is TOOL_NEST_NONE.
 */
enum tool_nest tool_dirs_nested(const int *fds, char *const *reals, unsigned n, unsigned *inner,
                                unsigned *outer, char *err, size_t errlen);

/*
 * What the command line says before anything runs: go on, or end now,
 * printing data on stdout when it is not NULL (the --check --json report
 * of a failure), then out (on stdout when code is EXITCODE_OK: --help,
 * --version, the --check report; else on stderr: a usage error, "PROG:
 * SENTENCE\nTry 'PROG --help'.\n", or a failure, "PROG: SENTENCE\n") and
 * exiting with code. Only the first ending is kept: the one the user
 * meets first. PROG is log_prog().
 */
struct tool_usage {
    const char *help; /* the tool's --help text, set by the caller */
    int end;          /* 0: go on; 1: print data and out, then exit with code */
    int code;         /* EXITCODE_OK, else the failure's exit status */
    const char *out;  /* help, buf or json */
    const char *data; /* NULL, or json */
    char buf[1200];
    char json[16384]; /* the --check --json report */
    /* Called by tool_settings with a warning as it arises (log_warn), so
     * that it comes before a --check that may take a while; NULL: none. */
    void (*warn)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
};

/*
 * tool_usage_error - end u with the usage error fmt... (the sentence cut
 * at 511 bytes), unless u has ended already. Returns EXITCODE_USAGE.
 */
int tool_usage_error(struct tool_usage *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * tool_parse_num, tool_parse_size, tool_parse_duration - parse the
 * argument arg of the flag named flag (e.g. "--jobs") as opts_parse_u64
 * within [min, max], opts_parse_size or opts_parse_duration (in
 * milliseconds). Return the value; or 0, with the failure "FLAG: why" kept
 * in u.
 */
uint64_t tool_parse_num(struct tool_usage *u, const char *flag, const char *arg, uint64_t min,
                        uint64_t max);
uint64_t tool_parse_size(struct tool_usage *u, const char *flag, const char *arg);
uint64_t tool_parse_duration(struct tool_usage *u, const char *flag, const char *arg);

/* The options tool_common_option handles besides the broker flags, as
 * struct option initialisers (each with its comma) for the tools' tables;
 * their short forms are "hqvV". */
#define TOOL_LONG_OPTIONS                                                                          \
    {"help", no_argument, NULL, 'h'}, {"quiet", no_argument, NULL, 'q'},                           \
        {"verbose", no_argument, NULL, 'v'}, {"version", no_argument, NULL, 'V'},

/*
 * tool_common_option - handle an option getopt_long returned that the tool
 * itself does not know: a broker flag (applied to c, see
 * cfg_apply_option), a service flag (applied to svc, see service_option), -q and -v (into
 * *verbosity, a log level), -h and -V (ending u with u->help, or the version line, for stdout), and
 * otherwise a missing argument (':') or an unknown option (a usage error in u). argv, optind and
 * optopt as getopt_long left them.
 */
void tool_common_option(struct tool_usage *u, struct cfg *c, struct service_opts *svc,
                        int *verbosity, int opt, char **argv);

/*
 * tool_finish_stdout - close stdout, which carries data: a write error
 * there (a full disk, a closed pipe) must not pass silently. Returns code;
 * or EXITCODE_IOERR, with a sentence in err, when code is EXITCODE_OK or
 * EXITCODE_SOME_FAILED and a write to stdout or its close failed.
 */
int tool_finish_stdout(int code, char *err, size_t errlen);

/*
 * tool_catch_stop - have handler called on SIGINT and SIGTERM (sigaction,
 * no flags), for it to set a flag the loops watch, as they drain rather
 * than die.
 */
void tool_catch_stop(void (*handler)(int));

/*
 * tool_settings - once the options are parsed: take from the environment
 * the broker and service settings no flag gave (cfg_from_env,
 * service_from_env), overwrite a --url
 * password in argv (cfg_hide_argv_password; then u->warn says so, at
 * once), resolve the URL (cfg_finish) when resolve is set, and for --check
 * (check not TOOL_CHECK_NONE) run tool_check. Ends u with the check's
 * report, or with the failure and its exit status (EXITCODE_CONFIG for bad
 * settings), and with TOOL_CHECK_JSON the JSON object of the failure in
 * u->data; leaves u going on otherwise, or when u had ended already.
 */
void tool_settings(struct tool_usage *u, struct cfg *c, struct service_opts *svc, int argc,
                   char **argv, int resolve, enum tool_check_mode check);

#endif
