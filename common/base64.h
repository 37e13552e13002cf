/* base64.h - RFC 4648 base64, standard alphabet, padded, decoded strictly. */
#ifndef SCANMOVE_BASE64_H
#define SCANMOVE_BASE64_H

#include <stddef.h>

/* Characters base64_encode writes for n bytes, without the NUL. */
#define BASE64_LEN(n) ((((n) + 2) / 3) * 4)

/*
 * base64_encode - write the n bytes at in as padded base64 into out, which
 * must have room for BASE64_LEN(n) + 1 bytes, and terminate it. in may be
 * NULL when n is 0.
 */
void base64_encode(const void *in, size_t n, char *out);

/*
 * base64_decode - decode the n characters at s into out (cap bytes) and set
 * *outlen. Strict, so that every byte string has exactly one accepted
 * encoding: the length is a multiple of 4, only the alphabet appears, '='
 * only as the last one or two characters, and the unused low bits of the
 * last character are zero. No whitespace, no URL-safe alphabet (glibc has
 * no public base64, and libresolv's b64_pton skips whitespace). Returns 0;
 * -2 when the bytes would not fit in cap, which is checked first, before
 * anything is written; -1 for a malformed string (out may then hold part of
 * it). out is not terminated.
 */
int base64_decode(const char *s, size_t n, void *out, size_t cap, size_t *outlen);

#endif
