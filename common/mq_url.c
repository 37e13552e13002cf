/* mq_url.c - AMQP URL parsing and masking; see mq_url.h. */
#include "mq_url.h"

#include "opts.h"

#include <ctype.h>
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

/* Percent-decode len bytes of s into out (MQ_URL_FIELD_MAX + 1 bytes).
 * Returns 0, or -1 with a sentence naming the field in err. */
static int decode_field(const char *what, const char *s, size_t len, char *out, char *err,
                        size_t errlen)
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
        if (o >= MQ_URL_FIELD_MAX) {
            snprintf(err, errlen, "the %s of the URL is longer than %d bytes", what,
                     MQ_URL_FIELD_MAX);
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
    if (decode_field("user name", user, ulen, out->user, err, errlen) < 0)
        return -1;
    if (pw_colon == NULL)
        snprintf(out->password, sizeof out->password, "guest");
    else if (decode_field("password", pw_colon + 1, (size_t)(at - pw_colon - 1), out->password, err,
                          errlen) < 0)
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
    else if (decode_field("host", hostp, hlen, out->host, err, errlen) < 0)
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
    return decode_field("vhost", v, vlen, out->vhost, err, errlen) < 0 ? -1 : 0;
}

int mq_url_parse(const char *url, struct mq_url *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
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
    size_t used = encode_append(out, outlen, (size_t)n, u->user);
    n = snprintf(out + used, outlen - used, "@%s%s%s:%d/", ipv6 ? "[" : "", u->host,
                 ipv6 ? "]" : "", u->port);
    if (n < 0 || (size_t)n >= outlen - used)
        return;
    used += (size_t)n;
    if (strcmp(u->vhost, "/") != 0)
        encode_append(out, outlen, used, u->vhost);
}
