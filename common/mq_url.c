/* mq_url.c - AMQP URL parsing and masking; see mq_url.h. */
#include "mq_url.h"

#include "opts.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decode len bytes of s into out (outsize bytes, at least 1).
 * Returns 0, or -1 with a sentence naming the field in err. */
static int decode_field(const char *what, const char *s, size_t len, char *out, size_t outsize,
                        char *err, size_t errlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (len - i < 3 || hexval((unsigned char)s[i + 1]) < 0 ||
                hexval((unsigned char)s[i + 2]) < 0) {
                snprintf(err, errlen, "bad percent-encoding in the %s of the URL", what);
                return -1;
            }
            c = hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]);
            i += 2;
            if (c == 0) {
                snprintf(err, errlen, "the %s of the URL contains a NUL byte", what);
                return -1;
            }
        }
        if (o >= outsize - 1) {
            snprintf(err, errlen, "the %s of the URL is longer than %zu bytes", what, outsize - 1);
            return -1;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

int mq_url_userinfo(const char *url, const char **user, const char **colon, const char **at)
{
    const char *sep = strstr(url, "://");
    const char *auth = sep ? sep + 3 : url;
    size_t alen = strcspn(auth, "/?#");
    *user = auth;
    *colon = *at = NULL;
    for (const char *q = auth; q < auth + alen; q++)
        if (*q == '@')
            *at = q;
    if (*at == NULL)
        return 0;
    *colon = memchr(auth, ':', (size_t)(*at - auth));
    return 1;
}

/* The user name and password of url into out (guest/guest when absent);
 * *hostp: where the host starts. 0, or -1 with a sentence in err. */
static int parse_userinfo(const char *url, const char *auth, struct mq_url *out, const char **hostp,
                          char *err, size_t errlen)
{
    const char *user, *pw_colon, *at;
    *hostp = auth;
    if (!mq_url_userinfo(url, &user, &pw_colon, &at)) {
        snprintf(out->user, sizeof out->user, "guest");
        snprintf(out->password, sizeof out->password, "guest");
        return 0;
    }
    size_t ulen = pw_colon ? (size_t)(pw_colon - user) : (size_t)(at - user);
    if (decode_field("user name", user, ulen, out->user, sizeof out->user, err, errlen) < 0)
        return -1;
    if (pw_colon == NULL)
        snprintf(out->password, sizeof out->password, "guest");
    else if (decode_field("password", pw_colon + 1, (size_t)(at - pw_colon - 1), out->password,
                          sizeof out->password, err, errlen) < 0)
        return -1;
    *hostp = at + 1;
    return 0;
}

/* The port, plen bytes at portp, into out->port. 0, or -1 with a sentence. */
static int parse_port(const char *portp, size_t plen, struct mq_url *out, char *err, size_t errlen)
{
    size_t used = 0;
    uint64_t port = 0;
    if (plen == 0) {
        snprintf(err, errlen, "empty port in the broker URL");
        return -1;
    }
    if (opts_read_digits(portp, plen, &port, &used) <= 0 || used != plen || port < 1 ||
        port > 65535) {
        snprintf(err, errlen, "the port in the broker URL is not a number from 1 to 65535");
        return -1;
    }
    out->port = (int)port;
    return 0;
}

/* host[:port] from hostp to auth_end, with IPv6 literals in brackets, into
 * out (localhost when empty). 0, or -1 with a sentence in err. */
static int parse_host_port(const char *hostp, const char *auth_end, struct mq_url *out, char *err,
                           size_t errlen)
{
    const char *host_end, *portp = NULL;
    if (hostp < auth_end && *hostp == '[') {
        const char *rb = memchr(hostp, ']', (size_t)(auth_end - hostp));
        if (rb == NULL) {
            snprintf(err, errlen, "unclosed '[' in the host of the broker URL");
            return -1;
        }
        if (rb + 1 < auth_end && rb[1] != ':') {
            snprintf(err, errlen, "unexpected text after ']' in the broker URL");
            return -1;
        }
        if (rb + 1 < auth_end)
            portp = rb + 2;
        hostp++;
        host_end = rb;
    } else {
        const char *colon = memchr(hostp, ':', (size_t)(auth_end - hostp));
        host_end = colon ? colon : auth_end;
        if (colon != NULL)
            portp = colon + 1;
    }
    size_t hlen = (size_t)(host_end - hostp);
    if (hlen == 0)
        snprintf(out->host, sizeof out->host, "localhost");
    else if (decode_field("host", hostp, hlen, out->host, sizeof out->host, err, errlen) < 0)
        return -1;
    return portp != NULL ? parse_port(portp, (size_t)(auth_end - portp), out, err, errlen) : 0;
}

/* The vhost after the authority (at auth_end): the path without its leading
 * '/'; absent or empty means "/". 0, or -1 with a sentence in err. */
static int parse_vhost(const char *auth_end, struct mq_url *out, char *err, size_t errlen)
{
    const char *v = auth_end + 1;
    size_t vlen = *auth_end == '/' ? strcspn(v, "?#") : 0;
    if (vlen > 0 && memchr(v, '/', vlen) != NULL) {
        snprintf(err, errlen, "the vhost in the broker URL must be percent-encoded (%%2f for '/')");
        return -1;
    }
    if (vlen == 0) {
        snprintf(out->vhost, sizeof out->vhost, "/");
        return 0;
    }
    return decode_field("vhost", v, vlen, out->vhost, sizeof out->vhost, err, errlen) < 0 ? -1 : 0;
}

/* The query parameters mq_url_parse knows; bit k of parse_param's *seen
 * stands for q_names[k]. */
enum q_param {
    Q_HEARTBEAT,
    Q_CONNECTION_TIMEOUT,
    Q_CHANNEL_MAX,
    Q_FRAME_MAX,
    Q_CACERTFILE,
    Q_CERTFILE,
    Q_KEYFILE,
    Q_VERIFY,
    Q_SERVER_NAME,
    Q_AUTH_MECHANISM,
    Q_N
};
static const char *const q_names[Q_N] = {
    "heartbeat",
    "connection_timeout",
    "channel_max",
    "frame_max",
    "cacertfile",
    "certfile",
    "keyfile",
    "verify",
    "server_name_indication",
    "auth_mechanism",
};

/* 1 when the len bytes at s are a plain word (letters, digits, '_', '-'),
 * safe to repeat in a message: a misplaced password is rarely one. */
static int plain_word(const char *s, size_t len)
{
    if (len == 0 || len > 32)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

/* The decimal number v, digits only, within [min, max] into *n: 0, or -1. */
static int query_number(const char *v, uint64_t min, uint64_t max, uint64_t *n)
{
    size_t used = 0;
    if (opts_read_digits(v, SIZE_MAX, n, &used) != 1 || v[used] != '\0')
        return -1;
    return *n >= min && *n <= max ? 0 : -1;
}

/* 1 when v is a host name (letters, digits, '-', '.', '_') that fits. */
static int host_name(const char *v)
{
    size_t n = strlen(v);
    if (n > MQ_URL_FIELD_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && strchr("-._", v[i]) == NULL)
            return 0;
    return 1;
}

/* Apply the decoded, non-empty value v of parameter k to out. Returns 0,
 * or -1 with what v must be in *want. */
static int apply_param(enum q_param k, const char *v, struct mq_url *out, const char **want)
{
    uint64_t n;
    switch (k) {
    case Q_HEARTBEAT:
        *want = "a number of seconds from 0 to 65535";
        if (query_number(v, 0, 65535, &n) < 0)
            return -1;
        out->heartbeat_s = (int)n;
        return 0;
    case Q_CONNECTION_TIMEOUT:
        *want = "a number of milliseconds from 1 to 4294967295";
        if (query_number(v, 1, UINT32_MAX, &n) < 0)
            return -1;
        out->connect_timeout_ms = n;
        return 0;
    case Q_CHANNEL_MAX:
        *want = "a number from 0 to 65535";
        return query_number(v, 0, 65535, &n);
    case Q_FRAME_MAX:
        *want = "a number from 0 to 4294967295";
        return query_number(v, 0, UINT32_MAX, &n);
    case Q_CACERTFILE: /* decode_field kept v within MQ_URL_PATH_MAX */
        snprintf(out->cacertfile, sizeof out->cacertfile, "%s", v);
        return 0;
    case Q_CERTFILE:
        snprintf(out->certfile, sizeof out->certfile, "%s", v);
        return 0;
    case Q_KEYFILE:
        snprintf(out->keyfile, sizeof out->keyfile, "%s", v);
        return 0;
    case Q_VERIFY:
        *want = "verify_peer or verify_none";
        out->verify = strcmp(v, "verify_peer") == 0 ? 1 : strcmp(v, "verify_none") == 0 ? 0 : -1;
        return out->verify < 0 ? -1 : 0;
    case Q_SERVER_NAME:
        *want = "a host name or disable";
        if (strcmp(v, "disable") == 0)
            out->sni_disabled = 1;
        else if (host_name(v))
            snprintf(out->server_name, sizeof out->server_name, "%s", v);
        else
            return -1;
        return 0;
    case Q_AUTH_MECHANISM:
        *want = "plain or external";
        if (strcasecmp(v, "plain") != 0 && strcasecmp(v, "external") != 0)
            return -1;
        out->external = strcasecmp(v, "external") == 0;
        return 0;
    default:
        return -1;
    }
}

/* One key=value of the query, len bytes at s (not empty), into out; *seen
 * holds a bit per parameter met so far. 0, or -1 with a sentence in err
 * that repeats no value. */
static int parse_param(const char *s, size_t len, unsigned *seen, struct mq_url *out, char *err,
                       size_t errlen)
{
    char v[MQ_URL_PATH_MAX + 1], what[64];
    const char *eq = memchr(s, '=', len), *want = "";
    size_t klen = eq ? (size_t)(eq - s) : len;
    if (!plain_word(s, klen)) {
        snprintf(err, errlen, "a parameter in the broker URL is not of the form name=value");
        return -1;
    }
    int k = 0;
    while (k < Q_N && (strlen(q_names[k]) != klen || memcmp(q_names[k], s, klen) != 0))
        k++;
    if (k == Q_N) {
        snprintf(err, errlen, "unknown parameter '%.*s' in the broker URL", (int)klen, s);
        return -1;
    }
    if (*seen & (1u << k)) {
        snprintf(err, errlen, "parameter '%s' is given twice in the broker URL", q_names[k]);
        return -1;
    }
    *seen |= 1u << k;
    if (eq == NULL || eq + 1 == s + len) {
        snprintf(err, errlen, "parameter '%s' in the broker URL has no value", q_names[k]);
        return -1;
    }
    snprintf(what, sizeof what, "'%s' parameter", q_names[k]);
    if (decode_field(what, eq + 1, len - klen - 1, v, sizeof v, err, errlen) < 0)
        return -1;
    if (apply_param((enum q_param)k, v, out, &want) < 0) {
        snprintf(err, errlen, "parameter '%s' in the broker URL must be %s", q_names[k], want);
        return -1;
    }
    return 0;
}

/* The query, len bytes at q ('&'-separated; empty pieces are skipped), into
 * out. 0, or -1 with a sentence in err. */
static int parse_query(const char *q, size_t len, struct mq_url *out, char *err, size_t errlen)
{
    unsigned seen = 0;
    const char *end = q + len;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *piece_end = amp != NULL ? amp : end;
        if (piece_end > q && parse_param(q, (size_t)(piece_end - q), &seen, out, err, errlen) < 0)
            return -1;
        q = piece_end + (amp != NULL);
    }
    return 0;
}

int mq_url_parse(const char *url, struct mq_url *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->heartbeat_s = -1;
    out->verify = -1;
    const char *p;
    if (strncasecmp(url, "amqp://", 7) == 0) {
        p = url + 7;
    } else if (strncasecmp(url, "amqps://", 8) == 0) {
        p = url + 8;
        out->tls = 1;
    } else {
        snprintf(err, errlen, "the broker URL must start with amqp:// or amqps://");
        return -1;
    }
    out->port = out->tls ? 5671 : 5672;
    /* The authority runs to the first '/', '?' or '#'. */
    const char *auth_end = p + strcspn(p, "/?#"), *hostp;
    if (parse_userinfo(url, p, out, &hostp, err, errlen) < 0 ||
        parse_host_port(hostp, auth_end, out, err, errlen) < 0 ||
        parse_vhost(auth_end, out, err, errlen) < 0)
        return -1;
    /* The query starts at the first '?' before any '#'. */
    const char *q = p + strcspn(p, "?#");
    if (*q == '?' && parse_query(q + 1, strcspn(q + 1, "#"), out, err, errlen) < 0)
        return -1;
    return 0;
}

/* Append s to out percent-encoding what a URL path or userinfo cannot hold. */
static size_t encode_append(char *out, size_t outlen, size_t used, const char *s)
{
    for (; *s != '\0' && used + 4 < outlen; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("-._~", c) != NULL) {
            out[used++] = (char)c;
        } else {
            int n = snprintf(out + used, outlen - used, "%%%02x", c);
            used += (size_t)n;
        }
    }
    out[used] = '\0';
    return used;
}

void mq_url_format(const struct mq_url *u, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    int ipv6 = strchr(u->host, ':') != NULL;
    int n = snprintf(out, outlen, "%s://", u->tls ? "amqps" : "amqp");
    if (n < 0 || (size_t)n >= outlen)
        return;
    /* With EXTERNAL the certificate says who: no user name. */
    size_t used = u->external ? (size_t)n : encode_append(out, outlen, (size_t)n, u->user);
    n = snprintf(out + used, outlen - used, "%s%s%s%s:%d/", u->external ? "" : "@", ipv6 ? "[" : "",
                 u->host, ipv6 ? "]" : "", u->port);
    if (n < 0 || (size_t)n >= outlen - used)
        return;
    used += (size_t)n;
    if (strcmp(u->vhost, "/") != 0)
        encode_append(out, outlen, used, u->vhost);
}
