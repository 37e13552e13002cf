/* fnv128.c - 128-bit FNV-1a; see fnv128.h. */
#include "fnv128.h"

/* -Wpedantic rejects __int128 in ISO C; __extension__ says we know. */
__extension__ typedef unsigned __int128 u128;

void fnv128_init(struct fnv128 *h)
{
    h->hi = 0x6c62272e07bb0142ULL;
    h->lo = 0x62b821756295c58dULL;
}

void fnv128_add(struct fnv128 *h, const void *p, size_t n)
{
    static const u128 prime = ((u128)0x0000000001000000ULL << 64) | 0x000000000000013BULL;
    const unsigned char *b = p;
    u128 v = ((u128)h->hi << 64) | h->lo;

    for (size_t i = 0; i < n; i++) {
        v ^= b[i];
        v *= prime;
    }
    h->hi = (uint64_t)(v >> 64);
    h->lo = (uint64_t)v;
}

void fnv128_add_le(struct fnv128 *h, uint64_t v, size_t width)
{
    unsigned char b[8];

    for (size_t i = 0; i < width && i < sizeof b; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    fnv128_add(h, b, width < sizeof b ? width : sizeof b);
}

void fnv128_hex(const struct fnv128 *h, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < FNV128_HEX_LEN; i++) {
        uint64_t half = i < 16 ? h->hi : h->lo;
        out[i] = hex[(half >> (4 * (15 - i % 16))) & 0xf];
    }
    out[FNV128_HEX_LEN] = '\0';
}
