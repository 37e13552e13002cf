/* service.c - the service options and signals; see service.h. */
#include "service.h"

#include "opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t got_hup, got_usr1;

/* Apply one setting named what ("--metrics" or the variable). */
static int apply(struct service_opts *s, int code, const char *what, const char *v, char *err,
                 size_t errlen)
{
    char why[256];
    switch (code) {
    case SERVICE_OPT_METRICS:
    case SERVICE_OPT_LOG_FILE: {
        char *dst = code == SERVICE_OPT_METRICS ? s->metrics : s->log_file;
        if (v[0] == '\0' || strlen(v) >= CFG_PATH_MAX) {
            snprintf(err, errlen, "%s: %s", what, v[0] ? "the file name is too long" : "no file");
            return -1;
        }
        snprintf(dst, CFG_PATH_MAX, "%s", v);
        return 0;
    }
    case SERVICE_OPT_METRICS_INTERVAL: {
        uint64_t ms;
        if (opts_parse_duration(v, &ms, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s: %s", what, why);
            return -1;
        }
        if (ms < 1000) {
            snprintf(err, errlen, "%s must be at least 1s", what);
            return -1;
        }
        s->metrics_interval_ms = ms;
        return 0;
    }
    case SERVICE_OPT_LOG_FORMAT:
        if (strcmp(v, "text") == 0)
            s->log_format = SERVICE_LOG_TEXT;
        else if (strcmp(v, "json") == 0)
            s->log_format = SERVICE_LOG_JSON;
        else {
            snprintf(err, errlen, "%s must be text or json", what);
            return -1;
        }
        return 0;
    default:
        return 0;
    }
}

int service_option(struct service_opts *s, int code, const char *arg, char *err, size_t errlen)
{
    static const char *const flags[] = {"--metrics", "--metrics-interval", "--log-format",
                                        "--log-file"};
    if (code < SERVICE_OPT_FIRST || code >= SERVICE_OPT_END)
        return 0;
    if (apply(s, code, flags[code - SERVICE_OPT_FIRST], arg, err, errlen) < 0)
        return -1;
    s->given |= 1u << (code - SERVICE_OPT_FIRST);
    return 1;
}

int service_from_env(struct service_opts *s, char *err, size_t errlen)
{
    static const char *const vars[] = {"SCANMOVE_METRICS", "SCANMOVE_METRICS_INTERVAL",
                                       "SCANMOVE_LOG_FORMAT", "SCANMOVE_LOG_FILE"};
    for (int code = SERVICE_OPT_FIRST; code < SERVICE_OPT_END; code++) {
        const char *v = getenv(vars[code - SERVICE_OPT_FIRST]);
        if ((s->given & (1u << (code - SERVICE_OPT_FIRST))) || v == NULL || v[0] == '\0')
            continue;
        if (apply(s, code, vars[code - SERVICE_OPT_FIRST], v, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static void on_hup(int sig)
{
    (void)sig;
    got_hup = 1;
}

static void on_usr1(int sig)
{
    (void)sig;
    got_usr1 = 1;
}

void service_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int service_take_hup(void)
{
    if (!got_hup)
        return 0;
    got_hup = 0;
    return 1;
}

int service_take_usr1(void)
{
    if (!got_usr1)
        return 0;
    got_usr1 = 0;
    return 1;
}
