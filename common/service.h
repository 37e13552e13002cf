/*
 * service.h - what both tools need to run as a service: the options for
 * metrics and log output, and the signals an operator and a service
 * manager send (SIGHUP: reopen the outputs; SIGUSR1: one status line).
 *
 * Precedence is flags > environment > defaults, as for the broker
 * settings: service_option() for each flag, then service_from_env().
 * Library code: no output, no exit.
 */
#ifndef SCANMOVE_SERVICE_H
#define SCANMOVE_SERVICE_H

#include <signal.h>
#include <stdint.h>

#include "cfg.h"

enum service_log_format { SERVICE_LOG_TEXT = 0, SERVICE_LOG_JSON = 1 };

struct service_opts {
    char metrics[CFG_PATH_MAX];   /* --metrics FILE, "" none */
    uint64_t metrics_interval_ms; /* --metrics-interval; set the tool's default first */
    enum service_log_format log_format;
    char log_file[CFG_PATH_MAX]; /* --log-file FILE, "" stderr */
    unsigned given;              /* bit (code - SERVICE_OPT_FIRST) per flag given */
};

/* Option codes, above the broker flags' (CFG_OPT_FIRST). */
enum service_opt {
    SERVICE_OPT_FIRST = 1500,
    SERVICE_OPT_METRICS = SERVICE_OPT_FIRST,
    SERVICE_OPT_METRICS_INTERVAL,
    SERVICE_OPT_LOG_FORMAT,
    SERVICE_OPT_LOG_FILE,
    SERVICE_OPT_END
};

/* The service flags as struct option initialisers, each with its comma. */
#define SERVICE_LONG_OPTIONS                                                                       \
    {"metrics", required_argument, NULL, SERVICE_OPT_METRICS},                                     \
        {"metrics-interval", required_argument, NULL, SERVICE_OPT_METRICS_INTERVAL},               \
        {"log-format", required_argument, NULL, SERVICE_OPT_LOG_FORMAT},                           \
        {"log-file", required_argument, NULL, SERVICE_OPT_LOG_FILE},

/* Their --help text, for scan and for move (their default intervals differ). */
#define SERVICE_HELP_SCAN SERVICE_HELP_("10s")
#define SERVICE_HELP_MOVE SERVICE_HELP_("15s")
#define SERVICE_HELP_(INTERVAL)                                                                    \
    "Service options:\n"                                                                           \
    "      --metrics FILE        write Prometheus metrics to FILE (textfile\n"                     \
    "                            format, replaced atomically)\n"                                   \
    "      --metrics-interval DUR  rewrite FILE this often (default " INTERVAL ")\n"               \
    "      --log-format FORMAT   text (default) or json: one JSON object per line\n"               \
    "      --log-file FILE       append diagnostics to FILE instead of standard\n"                 \
    "                            error; SIGHUP reopens it\n"

/*
 * service_option - apply one parsed service flag (code from enum
 * service_opt, arg its argument) to s. Returns 1 when applied, 0 when code
 * is not a service flag, -1 with a sentence naming the flag in err when
 * the argument is bad.
 */
int service_option(struct service_opts *s, int code, const char *arg, char *err, size_t errlen);

/*
 * service_from_env - take SCANMOVE_METRICS, SCANMOVE_METRICS_INTERVAL,
 * SCANMOVE_LOG_FORMAT and SCANMOVE_LOG_FILE for the settings no flag gave.
 * Returns 0, or -1 with a sentence naming the variable in err.
 */
int service_from_env(struct service_opts *s, char *err, size_t errlen);

/*
 * service_catch_signals - note SIGHUP and SIGUSR1 (sigaction, SA_RESTART)
 * for service_take_hup() and service_take_usr1(), instead of their default
 * action, which would end the process; and ignore SIGPIPE, so that a
 * closed pipe shows as a write error (EPIPE) the tool can report.
 */
void service_catch_signals(void);

/*
 * service_take_hup, service_take_usr1 - 1 when the signal came since the
 * last call (and forget it), else 0. Async-signal-safe to set, read from
 * the main loop.
 */
int service_take_hup(void);
int service_take_usr1(void);

#endif
