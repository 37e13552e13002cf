/* msg_time.c - the message's times (scanned_at, published_at), written and read; see msg.h. */
#include "msg.h"

#include <stdio.h>
#include <string.h>

void msg_time_format(const struct timespec *t, char *out, size_t cap)
{
    /* gmtime_r and strftime cost more than the rest of a message: once a
     * second is enough. */
    static _Thread_local time_t cached_sec = (time_t)-1;
    static _Thread_local char cached[32];
    if (t->tv_sec != cached_sec) {
        struct tm tm;
        if (gmtime_r(&t->tv_sec, &tm) == NULL ||
            strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
            cached[0] = '\0';
        cached_sec = t->tv_sec;
    }
    snprintf(out, cap, "%s.%03ldZ", cached, t->tv_nsec / 1000000);
}

/* n decimal digits at s into *v; 0, or -1 when one is not a digit. */
static int digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int msg_time_parse(const char *s, double *secs)
{
    int y, mo, d, h, mi, se;
    if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' ||
        digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    const char *p = s + 19;
    double frac = 0, scale = 0.1;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9' && n < 9; p++, n++, scale /= 10)
            frac += (*p - '0') * scale;
        if (n == 0)
            return -1;
    }
    if (p[0] != 'Z' || p[1] != '\0')
        return -1;
    *secs = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + se + frac;
    return 0;
}
