/*
 * cfg.h - the broker settings both tools share, and where they come from.
 *
 * Precedence is flags > environment > defaults: cfg_defaults() fills the
 * defaults, each broker flag the front end meets goes through
 * cfg_apply_option(), then cfg_from_env() fills in from the environment
 * only what no flag gave (so a flag also overrides a broken variable).
 * cfg_finish() then resolves the URL (--url, --url-file, AMQP_URL or the
 * default) and checks the combination. No output, no exit.
 *
 * Environment: AMQP_URL, SCANMOVE_EXCHANGE, SCANMOVE_QUEUE,
 * SCANMOVE_ROUTING_KEY, SCANMOVE_QUEUE_TYPE, SCANMOVE_DELIVERY_LIMIT,
 * SCANMOVE_HEARTBEAT, SCANMOVE_CACERT, SCANMOVE_CONNECT_TIMEOUT.
 */
#ifndef SCANMOVE_CFG_H
#define SCANMOVE_CFG_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_NAME_MAX 255  /* AMQP short strings */
#define CFG_URL_MAX 2048
#define CFG_PATH_MAX 4096

enum cfg_queue_type { CFG_QUEUE_QUORUM = 0, CFG_QUEUE_CLASSIC = 1 };

/* Where the URL came from, for messages such as "from AMQP_URL". */
enum cfg_url_source {
    CFG_URL_DEFAULT = 0,
    CFG_URL_FLAG,
    CFG_URL_FILE,
    CFG_URL_ENV
};

struct cfg {
    char url[CFG_URL_MAX];         /* resolved by cfg_finish; holds the password */
    enum cfg_url_source url_source;
    char url_flag[CFG_URL_MAX];    /* --url as given, "" if not */
    char url_file[CFG_PATH_MAX];   /* --url-file as given, "" if not */
    char url_env[CFG_URL_MAX];     /* AMQP_URL, "" if unset */
    char exchange[CFG_NAME_MAX + 1];
    char queue[CFG_NAME_MAX + 1];
    char routing_key[CFG_NAME_MAX + 1];
    enum cfg_queue_type queue_type;
    uint32_t delivery_limit;      /* quorum x-delivery-limit; 0 = unlimited */
    uint32_t heartbeat_s;         /* AMQP heartbeat in seconds; 0 = off */
    uint64_t connect_timeout_ms;  /* TCP connect and handshake timeout */
    char cacert[CFG_PATH_MAX];    /* CA bundle for amqps://, "" = system default */
    unsigned flags_given;         /* bit (code - CFG_OPT_URL) per broker flag given */
};

/* Option codes of the shared broker flags, above any single character. */
enum cfg_opt {
    CFG_OPT_URL = 1000,
    CFG_OPT_URL_FILE,
    CFG_OPT_EXCHANGE,
    CFG_OPT_QUEUE,
    CFG_OPT_ROUTING_KEY,
    CFG_OPT_QUEUE_TYPE,
    CFG_OPT_DELIVERY_LIMIT,
    CFG_OPT_HEARTBEAT,
    CFG_OPT_CACERT,
    CFG_OPT_CONNECT_TIMEOUT
};

/* The broker flags as struct option initialisers, for the tools' tables. */
#define CFG_LONG_OPTIONS                                                                           \
    {"cacert", required_argument, NULL, CFG_OPT_CACERT},                                           \
        {"connect-timeout", required_argument, NULL, CFG_OPT_CONNECT_TIMEOUT},                     \
        {"delivery-limit", required_argument, NULL, CFG_OPT_DELIVERY_LIMIT},                       \
        {"exchange", required_argument, NULL, CFG_OPT_EXCHANGE},                                   \
        {"heartbeat", required_argument, NULL, CFG_OPT_HEARTBEAT},                                 \
        {"queue", required_argument, NULL, CFG_OPT_QUEUE},                                         \
        {"queue-type", required_argument, NULL, CFG_OPT_QUEUE_TYPE},                               \
        {"routing-key", required_argument, NULL, CFG_OPT_ROUTING_KEY},                             \
        {"url", required_argument, NULL, CFG_OPT_URL},                                             \
        {"url-file", required_argument, NULL, CFG_OPT_URL_FILE}

/* The help text of those flags, for both tools' --help. */
#define CFG_HELP                                                                                   \
    "Broker options:\n"                                                                            \
    "      --url URL             broker URL (default from AMQP_URL, else\n"                        \
    "                            amqp://guest:guest@localhost:5672/); a password here\n"          \
    "                            is visible to other users: prefer --url-file\n"                  \
    "      --url-file FILE       read the broker URL from the first line of FILE\n"               \
    "      --cacert FILE         CA certificates to verify an amqps:// broker\n"                  \
    "      --connect-timeout DUR give up connecting after DUR (default 10s)\n"                    \
    "      --heartbeat DUR       AMQP heartbeat interval (default 30s, 0 = off)\n"                \
    "      --exchange NAME       exchange (default scanmove)\n"                                   \
    "      --queue NAME          queue (default files)\n"                                         \
    "      --routing-key KEY     routing key (default files)\n"                                   \
    "      --queue-type TYPE     quorum or classic (default quorum)\n"                            \
    "      --delivery-limit N    deliveries before a quorum queue dead-letters a\n"               \
    "                            message (default 5, 0 = unlimited)\n"

/* cfg_defaults - fill c with the built-in defaults. c must not be NULL. */
void cfg_defaults(struct cfg *c);

/*
 * cfg_from_env - take from the environment variables listed above the
 * settings that no flag gave (call it after the flags). Returns 0, or -1
 * with a sentence naming the variable in err when one holds a bad value.
 */
int cfg_from_env(struct cfg *c, char *err, size_t errlen);

/*
 * cfg_apply_option - apply one parsed broker flag (code from enum cfg_opt,
 * arg its argument). Returns 1 when code is a broker flag and was applied,
 * 0 when code is not a broker flag (the caller handles it), -1 with a
 * sentence naming the flag in err when the argument is bad.
 */
int cfg_apply_option(struct cfg *c, int code, const char *arg, char *err, size_t errlen);

/*
 * cfg_check_flags - check the combination of the broker flags given:
 * --url together with --url-file is an error. Returns 0, or -1 with a
 * sentence in err. The tools call it as soon as the flags are parsed, for
 * a usage error; cfg_finish calls it too.
 */
int cfg_check_flags(const struct cfg *c, char *err, size_t errlen);

/*
 * cfg_finish - resolve c->url: --url, else --url-file (first line, trailing
 * white space dropped), else AMQP_URL, else the default; --url together with
 * --url-file is an error (cfg_check_flags). Returns 0, or -1 with a sentence in err (never
 * containing a password) when the file cannot be read or the URL is empty.
 */
int cfg_finish(struct cfg *c, char *err, size_t errlen);

/* cfg_queue_type_name - "quorum" or "classic". */
const char *cfg_queue_type_name(enum cfg_queue_type t);

/* cfg_url_source_name - "--url", "--url-file", "AMQP_URL" or "the default". */
const char *cfg_url_source_name(enum cfg_url_source s);

/*
 * cfg_hide_argv_password - overwrite, in place, the password of every
 * "--url=..." or "--url ..." argument in argv with '*' characters, so that
 * ps(1) and /proc/PID/cmdline stop showing it once the tool has read it (as
 * mysql and others do). Returns 1 when a password was found, so the caller
 * can warn that argv is the wrong place for it.
 */
int cfg_hide_argv_password(int argc, char **argv);

#endif
