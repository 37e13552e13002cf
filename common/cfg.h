/*
 * cfg.h - the broker settings both tools share, and where they come from.
 *
 * Precedence is flags > environment > defaults: cfg_defaults() fills the
 * defaults, each broker flag the front end meets goes through
 * cfg_apply_option(), then cfg_from_env() fills in from the environment
 * only what no flag gave (so a flag also overrides a broken variable).
 * cfg_finish() then resolves the list of broker URLs (every --url, else
 * --url-file, else AMQP_URL, else the default), the order to try them in,
 * and checks the combination. No output, no exit.
 *
 * Environment: AMQP_URL (one or more URLs separated by white space), and
 * the SCANMOVE_* variables of CFG_SETTINGS; SCANMOVE_URL_FILE, like
 * --url-file, wins over AMQP_URL, and any --url over both.
 */
#ifndef SCANMOVE_CFG_H
#define SCANMOVE_CFG_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "mq_url.h"

#define CFG_NAME_MAX 255 /* AMQP short strings */
#define CFG_URL_MAX 2048
#define CFG_PATH_MAX 4096
#define CFG_URLS_MAX 16 /* broker URLs in one list */
#define CFG_URL_TEXT_MAX (CFG_URLS_MAX * CFG_URL_MAX)

enum cfg_queue_type { CFG_QUEUE_QUORUM = 0, CFG_QUEUE_CLASSIC = 1 };

/* Where the URL came from, for messages such as "from AMQP_URL". */
enum cfg_url_source { CFG_URL_DEFAULT = 0, CFG_URL_FLAG, CFG_URL_FILE, CFG_URL_ENV };

/* The order to try the URLs in: a fresh shuffle per process, or as given. */
enum cfg_url_order { CFG_URL_RANDOM = 0, CFG_URL_ORDERED = 1 };

struct cfg {
    char urls[CFG_URLS_MAX][CFG_URL_MAX]; /* by cfg_finish, in the order given; hold passwords */
    size_t n_urls;                        /* >= 1 after cfg_finish */
    size_t url_order[CFG_URLS_MAX];       /* by cfg_finish: the order to try urls[], a
                                             permutation of 0..n_urls-1, shuffled for random */
    enum cfg_url_order order;             /* --url-order */
    enum cfg_url_source url_source;
    char url_flag[CFG_URL_TEXT_MAX]; /* every --url given, one per line; "" none */
    char url_file[CFG_PATH_MAX];     /* --url-file as given, "" if not */
    char url_env[CFG_URL_TEXT_MAX];  /* AMQP_URL, "" if unset */
    char exchange[CFG_NAME_MAX + 1];
    char queue[CFG_NAME_MAX + 1];
    char routing_key[CFG_NAME_MAX + 1];
    enum cfg_queue_type queue_type;
    uint32_t delivery_limit;     /* quorum x-delivery-limit; 0 = unlimited */
    uint32_t heartbeat_s;        /* AMQP heartbeat in seconds; 0 = off */
    uint64_t connect_timeout_ms; /* TCP connect and handshake timeout */
    char cacert[CFG_PATH_MAX];   /* CA bundle for amqps://, "" = system default */
    char cert[CFG_PATH_MAX];     /* --cert: client certificate for amqps://, "" none */
    char key[CFG_PATH_MAX];      /* --key: its private key, "" none */
    unsigned flags_given;        /* bit (code - CFG_OPT_FIRST) per broker flag given */
};

/* Where continued lines of --help start. */
#define CFG_HELP_INDENT "                            "

/*
 * CFG_SETTINGS(X) - every broker setting, once, in --help order, as
 * X(ID, FLAG, ARG, ENV, DEFAULT, HELP, HELP_AFTER):
 *   ID       the option code is CFG_OPT_<ID>;
 *   FLAG     the long option without "--";
 *   ARG      its argument as --help shows it, padded to the help column;
 *   ENV      the environment variable, or NULL (the URL is read apart:
 *            AMQP_URL, resolved by cfg_finish);
 *   DEFAULT  applied by cfg_defaults as if given, "" for none;
 *   HELP, HELP_AFTER  the --help text around DEFAULT (which it shows
 *            when not ""), continued lines indented by CFG_HELP_INDENT.
 * Adding a setting is one entry here and its case in cfg.c's apply().
 */
#define CFG_SETTINGS(X)                                                                            \
    X(URL, "url", "URL            ", NULL, "",                                                     \
      "broker URL, once per broker (default from\n" CFG_HELP_INDENT                                \
      "AMQP_URL, else " MQ_URL_DEFAULT ");\n" CFG_HELP_INDENT                                      \
      "a password here is visible to others: use --url-file",                                      \
      "")                                                                                          \
    X(URL_FILE, "url-file", "FILE      ", "SCANMOVE_URL_FILE", "",                                 \
      "read the broker URLs from FILE, one per line", "")                                          \
    X(URL_ORDER, "url-order", "random|ordered ", "SCANMOVE_URL_ORDER", "random",                   \
      "try the URLs in a fresh random order\n" CFG_HELP_INDENT "or as given (default ", ")")       \
    X(CACERT, "cacert", "FILE        ", "SCANMOVE_CACERT", "",                                     \
      "CA certificates to verify an amqps:// broker", "")                                          \
    X(CERT, "cert", "FILE          ", "SCANMOVE_CERT", "",                                         \
      "client certificate for amqps:// (mutual TLS)", "")                                          \
    X(KEY, "key", "FILE           ", "SCANMOVE_KEY", "", "the private key of --cert", "")          \
    X(CONNECT_TIMEOUT, "connect-timeout", "DUR", "SCANMOVE_CONNECT_TIMEOUT", "10s",                \
      "give up connecting after DUR (default ", ")")                                               \
    X(HEARTBEAT, "heartbeat", "DUR      ", "SCANMOVE_HEARTBEAT", "30s",                            \
      "AMQP heartbeat interval (default ", ", 0 = off)")                                           \
    X(EXCHANGE, "exchange", "NAME      ", "SCANMOVE_EXCHANGE", "scanmove", "exchange (default ",   \
      ")")                                                                                         \
    X(QUEUE, "queue", "NAME         ", "SCANMOVE_QUEUE", "files", "queue (default ", ")")          \
    X(ROUTING_KEY, "routing-key", "KEY    ", "SCANMOVE_ROUTING_KEY", "",                           \
      "routing key (default: the queue name)", "")                                                 \
    X(QUEUE_TYPE, "queue-type", "TYPE    ", "SCANMOVE_QUEUE_TYPE", "quorum",                       \
      "quorum or classic (default ", ")")                                                          \
    X(DELIVERY_LIMIT, "delivery-limit", "N   ", "SCANMOVE_DELIVERY_LIMIT", "5",                    \
      "deliveries before a quorum queue dead-letters a\n" CFG_HELP_INDENT "message (default ",     \
      ", 0 = unlimited)")

/* Option codes of the shared broker flags, above any single character. */
#define CFG_OPT_FIRST 1000
#define CFG_ENUM_(id, flag, arg, env, def, help, after) CFG_OPT_##id,
enum cfg_opt { CFG_OPT_BEFORE_ = CFG_OPT_FIRST - 1, CFG_SETTINGS(CFG_ENUM_) CFG_OPT_END };
#define CFG_N_SETTINGS (CFG_OPT_END - CFG_OPT_FIRST)

/* The broker flags as struct option initialisers, each followed by a
 * comma, for the tools' tables. */
#define CFG_GETOPT_(id, flag, arg, env, def, help, after)                                          \
    {flag, required_argument, NULL, CFG_OPT_##id},
#define CFG_LONG_OPTIONS CFG_SETTINGS(CFG_GETOPT_)

/* The help text of those flags, for both tools' --help. */
#define CFG_HELP_(id, flag, arg, env, def, help, after)                                            \
    "      --" flag " " arg " " help def after "\n"
#define CFG_HELP "Broker options:\n" CFG_SETTINGS(CFG_HELP_)

/* One row of CFG_SETTINGS: its code, "--FLAG", ENV (or NULL) and DEFAULT. */
struct cfg_setting {
    int code;
    const char *flag, *env, *def;
};

/*
 * cfg_settings - the CFG_SETTINGS table as an array of *n rows (n may be
 * NULL), in its order. Static; never NULL.
 */
const struct cfg_setting *cfg_settings(size_t *n);

/*
 * cfg_defaults - fill c with the built-in defaults (CFG_SETTINGS), and the
 * routing key with the default queue's name. c must not be NULL.
 */
void cfg_defaults(struct cfg *c);

/*
 * cfg_from_env - take from the environment variables listed above the
 * settings that no flag gave (call it after the flags); then, unless
 * --routing-key or SCANMOVE_ROUTING_KEY gave one, set the routing key to
 * the queue's name, so that two queues of different names are never bound
 * by the same key by default (the default queue "files" keeps the key
 * "files"). Returns 0, or -1 with a sentence naming the variable in err
 * when one holds a bad value.
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
 * --url (any number of them) together with --url-file is an error. Returns 0, or -1 with a
 * sentence in err. The tools call it as soon as the flags are parsed, for
 * a usage error; cfg_finish calls it too.
 */
int cfg_check_flags(const struct cfg *c, char *err, size_t errlen);

/*
 * cfg_finish - resolve the broker URLs into c->urls, c->n_urls (1 to
 * CFG_URLS_MAX) and c->url_source: every --url in the order given, else
 * --url-file (one URL per line; blank lines and lines whose first non-blank
 * is '#' ignored; white space around a URL dropped), else AMQP_URL (URLs
 * separated by white space), else MQ_URL_DEFAULT; then c->url_order by
 * cfg_order_urls with a per-process seed (backoff_seed). The URLs are not
 * parsed here. --url together with --url-file is an error
 * (cfg_check_flags). Returns 0, or -1 with a sentence in err, never
 * containing a password or a URL, when the file cannot be read or holds no
 * URL, a line of it is too long or holds more than one URL, AMQP_URL
 * separates its URLs with commas, or there are more than CFG_URLS_MAX URLs.
 * May be called again on the same c.
 */
int cfg_finish(struct cfg *c, char *err, size_t errlen);

/*
 * cfg_order_urls - fill c->url_order for c->n_urls URLs: the identity for
 * CFG_URL_ORDERED, a shuffle drawn from seed for CFG_URL_RANDOM (the same
 * seed gives the same order; every permutation is possible). Pure: no
 * clock, no global state. c must not be NULL.
 */
void cfg_order_urls(struct cfg *c, uint64_t seed);

/*
 * cfg_dlx_name, cfg_dead_name - the dead-letter exchange ("<exchange>.dlx")
 * and queue ("<queue>.dead") of c, into out (CFG_NAME_MAX + 1 bytes). Return
 * 0, or -1 when the name would be longer than an AMQP short string.
 */
int cfg_dlx_name(const struct cfg *c, char out[CFG_NAME_MAX + 1]);
int cfg_dead_name(const struct cfg *c, char out[CFG_NAME_MAX + 1]);

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
