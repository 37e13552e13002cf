/*
 * mq_url.h - AMQP URL parsing and password masking.
 *
 * Accepts the URI form RabbitMQ documents (https://www.rabbitmq.com/uri-spec.html):
 *   amqp[s]://[user[:password]@]host[:port][/vhost][?query]
 * with percent-encoding in user, password and vhost ("%2f" is the vhost "/").
 * An absent vhost path means "/"; an explicitly empty one ("amqp://h/") too.
 * IPv6 literal hosts go in brackets ("amqp://[::1]:5672/").
 *
 * The query string (after '?', up to a '#') holds RabbitMQ's URI query
 * parameters, '&'-separated key=value pairs with percent-encoded values
 * ('+' is taken as itself): heartbeat (seconds, 0 to 65535),
 * connection_timeout (milliseconds, 1 to 4294967295), channel_max (0 to
 * 65535) and frame_max (0 to 4294967295), checked and otherwise ignored,
 * cacertfile, certfile and keyfile (file names), verify (verify_peer or
 * verify_none), server_name_indication (a host name, or disable) and
 * auth_mechanism (plain or external, any case). An unknown parameter, one
 * given twice, or a bad or empty value is an error. Pure string work: no
 * I/O, safe on any input.
 */
#ifndef SCANMOVE_MQ_URL_H
#define SCANMOVE_MQ_URL_H

#include <stddef.h>
#include <stdint.h>

#define MQ_URL_DEFAULT "amqp://guest:guest@localhost:5672/"
#define MQ_URL_FIELD_MAX 255
#define MQ_URL_PATH_MAX 4095 /* a file name in the query */

struct mq_url {
    int tls; /* 1 for amqps:// */
    char user[MQ_URL_FIELD_MAX + 1];
    char password[MQ_URL_FIELD_MAX + 1];
    char host[MQ_URL_FIELD_MAX + 1]; /* without IPv6 brackets */
    int port;                        /* 5672, or 5671 for amqps, unless given */
    char vhost[MQ_URL_FIELD_MAX + 1];
    /* query parameters; each "not given" value leaves the tool's setting in force */
    int heartbeat_s;                        /* heartbeat; -1 not given */
    uint64_t connect_timeout_ms;            /* connection_timeout; 0 not given */
    char cacertfile[MQ_URL_PATH_MAX + 1];   /* "" not given */
    char certfile[MQ_URL_PATH_MAX + 1];     /* "" not given */
    char keyfile[MQ_URL_PATH_MAX + 1];      /* "" not given */
    int verify;                             /* -1 not given, 0 verify_none, 1 verify_peer */
    char server_name[MQ_URL_FIELD_MAX + 1]; /* server_name_indication; "" not given */
    int sni_disabled;                       /* server_name_indication=disable */
    int external;                           /* auth_mechanism=external */
};

/*
 * mq_url_parse - parse the NUL-terminated url into *out (user and password
 * default to "guest" when absent; the query parameters not given hold their
 * "not given" values). Returns 0, or -1 with a sentence in err (errlen
 * bytes, may be 0) that never contains the password nor a value of the
 * query; it names a parameter only when its name is a plain word.
 * url and out must not be NULL.
 */
int mq_url_parse(const char *url, struct mq_url *out, char *err, size_t errlen);

/*
 * mq_url_userinfo - find the userinfo of url, any string: the authority
 * follows the first "://" (or starts the string) and runs to the first
 * '/', '?' or '#'; the userinfo is what comes before its last '@' (so an
 * unencoded '@' in a password still works, as users expect), the password
 * what follows the first ':' in it. Returns 1 with *user at the start of
 * the userinfo, *at at that '@' and *colon at that ':' (NULL: no password)
 * when url has a userinfo; else 0. The one place that reads userinfo: for
 * parsing, masking, and hiding a password in argv.
 */
int mq_url_userinfo(const char *url, const char **user, const char **colon, const char **at);

/*
 * mq_url_format - write the masked display form of a parsed URL,
 * "amqp://user@host:port/vhost" (vhost percent-encoded; no query; no
 * user with auth_mechanism=external), into out.
 */
void mq_url_format(const struct mq_url *u, char *out, size_t outlen);

#endif
