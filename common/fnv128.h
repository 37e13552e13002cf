/* fnv128.h - the 128-bit FNV-1a hash, which defines the message id. */
#ifndef SCANMOVE_FNV128_H
#define SCANMOVE_FNV128_H

#include <stddef.h>
#include <stdint.h>

#define FNV128_HEX_LEN 32 /* hex digits of a hash, without the NUL */

/*
 * The running hash, as two halves so that no caller needs a 128-bit type.
 * Start with fnv128_init, feed bytes, then read it with fnv128_hex.
 */
struct fnv128 {
    uint64_t hi, lo;
};

/* fnv128_init - set h to the offset basis 0x6c62272e07bb014262b821756295c58d. */
void fnv128_init(struct fnv128 *h);

/*
 * fnv128_add - hash the n bytes at p into h: for each byte, XOR it in, then
 * multiply by the prime 0x0000000001000000000000000000013b modulo 2^128.
 * p may be NULL when n is 0.
 */
void fnv128_add(struct fnv128 *h, const void *p, size_t n);

/*
 * fnv128_add_le - hash the low width bytes of v (width 1..8), least
 * significant first, so that the hash does not depend on the host's byte
 * order.
 */
void fnv128_add_le(struct fnv128 *h, uint64_t v, size_t width);

/*
 * fnv128_hex - write h as FNV128_HEX_LEN lowercase hex digits, most
 * significant first, plus a NUL, into out (FNV128_HEX_LEN + 1 bytes).
 */
void fnv128_hex(const struct fnv128 *h, char *out);

#endif
