/* decimal.c - canonical decimal strings of the message format; see decimal.h. */
#include "decimal.h"

#include "opts.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define NSEC_PER_SEC 1000000000u

int decimal_parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || (s[0] == '0' && n > 1))
        return -1;
    uint64_t v;
    size_t used;
    int r = opts_read_digits(s, n, &v, &used);
    if (r < 0)
        return -2;
    if (r == 0 || used != n)
        return -1;
    *out = v;
    return 0;
}

void decimal_format_time(int64_t sec, uint32_t nsec, char *out, size_t outlen)
{
    if (sec >= 0 || nsec == 0)
        snprintf(out, outlen, "%" PRId64 ".%09" PRIu32, sec, nsec);
    else
        snprintf(out, outlen, "-%" PRIu64 ".%09" PRIu32, (uint64_t)(-(sec + 1)),
                 NSEC_PER_SEC - nsec);
}

int decimal_parse_time(const char *s, int64_t *sec, uint32_t *nsec)
{
    size_t n = strlen(s);
    int neg = 0;

    if (n > 0 && s[0] == '-') {
        neg = 1;
        s++;
        n--;
    }
    const char *dot = memchr(s, '.', n);
    if (dot == NULL || n - (size_t)(dot - s) - 1 != 9)
        return -1;
    uint64_t whole, frac;
    size_t used;
    if (decimal_parse_u64(s, (size_t)(dot - s), &whole) != 0)
        return -1;
    /* Unlike the whole seconds, the fraction may have leading zeros. */
    if (opts_read_digits(dot + 1, 9, &frac, &used) != 1 || used != 9)
        return -1;
    if (!neg) {
        if (whole > INT64_MAX)
            return -1;
        *sec = (int64_t)whole;
        *nsec = (uint32_t)frac;
    } else if (frac == 0) {
        if (whole == 0 || whole > (uint64_t)INT64_MAX + 1)
            return -1; /* "-0.000000000" is not canonical */
        *sec = whole == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)whole;
        *nsec = 0;
    } else {
        if (whole > INT64_MAX)
            return -1; /* the seconds would be below INT64_MIN */
        *sec = -(int64_t)whole - 1;
        *nsec = (uint32_t)(NSEC_PER_SEC - frac);
    }
    return 0;
}
