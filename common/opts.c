/* opts.c - number, size and duration parsing; see opts.h. */
#include "opts.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int opts_read_digits(const char *s, size_t n, uint64_t *v, size_t *used)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (acc > (UINT64_MAX - d) / 10)
            return -1;
        acc = acc * 10 + d;
    }
    if (i == 0)
        return 0;
    *v = acc;
    *used = i;
    return 1;
}

/* opts_read_digits on a NUL-terminated string, advancing *p past the digits. */
static int read_digits(const char **p, uint64_t *v)
{
    size_t used;
    int r = opts_read_digits(*p, SIZE_MAX, v, &used);
    if (r > 0)
        *p += used;
    return r;
}

int opts_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err,
                   size_t errlen)
{
    const char *p = s;
    uint64_t v;
    int r = read_digits(&p, &v);
    if (r == 0 || *p != '\0') {
        snprintf(err, errlen, "'%s' is not a whole number", s);
        return -1;
    }
    if (r < 0 || v < min || v > max) {
        snprintf(err, errlen, "'%s' is out of range (%llu to %llu)", s, (unsigned long long)min,
                 (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

int opts_parse_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
    const char *p = s;
    uint64_t v;
    int r = read_digits(&p, &v);
    unsigned shift = 0;
    if (r > 0) {
        switch (tolower((unsigned char)*p)) {
        case 'k':
            shift = 10;
            p++;
            break;
        case 'm':
            shift = 20;
            p++;
            break;
        case 'g':
            shift = 30;
            p++;
            break;
        case 't':
            shift = 40;
            p++;
            break;
        default:
            break;
        }
        if (shift != 0 && (p[0] == 'i' || p[0] == 'I') && (p[1] == 'B' || p[1] == 'b'))
            p += 2;
        else if (*p == 'B' || *p == 'b')
            p++;
    }
    if (r == 0 || *p != '\0') {
        snprintf(err, errlen,
                 "'%s' is not a size (use a number with an optional K, M, G or T suffix)", s);
        return -1;
    }
    if (r < 0 || (shift != 0 && v > (UINT64_MAX >> shift))) {
        snprintf(err, errlen, "'%s' is too large", s);
        return -1;
    }
    *out = v << shift;
    return 0;
}

int opts_parse_duration(const char *s, uint64_t *out_ms, char *err, size_t errlen)
{
    const char *p = s;
    uint64_t total = 0;
    int parts = 0;
    while (*p != '\0') {
        uint64_t v, unit;
        int r = read_digits(&p, &v);
        if (r == 0)
            goto bad;
        if (r < 0)
            goto big;
        if (p[0] == 'm' && p[1] == 's') {
            unit = 1;
            p += 2;
        } else if (*p == 's') {
            unit = 1000;
            p++;
        } else if (*p == 'm') {
            unit = 60000;
            p++;
        } else if (*p == 'h') {
            unit = 3600000;
            p++;
        } else if (*p == 'd') {
            unit = 86400000;
            p++;
        } else if (*p == '\0' && parts == 0) {
            unit = 1000; /* a bare number means seconds */
        } else {
            goto bad;
        }
        if (v > (UINT64_MAX - total) / unit)
            goto big;
        total += v * unit;
        parts++;
    }
    if (parts == 0)
        goto bad;
    *out_ms = total;
    return 0;
bad:
    snprintf(err, errlen, "'%s' is not a duration (use a number with a unit: ms, s, m, h or d)", s);
    return -1;
big:
    snprintf(err, errlen, "'%s' is too long a duration", s);
    return -1;
}
