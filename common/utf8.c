/* utf8.c - strict UTF-8 validation; see utf8.h. */
#include "utf8.h"

/*
 * How many continuation bytes follow the lead byte c, and the range the
 * first of them must be in (*lo..*hi); -1 when c cannot start a sequence.
 * The narrowed ranges are what rule out overlong forms, surrogates and
 * values above U+10FFFF.
 */
static int lead_byte(unsigned c, unsigned *lo, unsigned *hi)
{
    *lo = 0x80;
    *hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        return 1;
    if (c == 0xe0) {
        *lo = 0xa0; /* below is overlong */
        return 2;
    }
    if (c == 0xed) {
        *hi = 0x9f; /* above is a surrogate */
        return 2;
    }
    if (c >= 0xe1 && c <= 0xef)
        return 2;
    if (c == 0xf0) {
        *lo = 0x90; /* below is overlong */
        return 3;
    }
    if (c >= 0xf1 && c <= 0xf3)
        return 3;
    if (c == 0xf4) {
        *hi = 0x8f; /* above is beyond U+10FFFF */
        return 3;
    }
    return -1;
}

int utf8_valid(const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i = 0;

    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        unsigned lo, hi;
        int need = lead_byte(s[i], &lo, &hi);
        if (need < 0 || n - i - 1 < (size_t)need || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (int k = 2; k <= need; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        i += (size_t)need + 1;
    }
    return 1;
}
