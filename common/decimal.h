/*
 * decimal.h - the canonical decimal strings of the message format: unsigned
 * 64-bit numbers, and instants as SECONDS.NNNNNNNNN (docs/message-format.md,
 * "Why 64-bit numbers are strings" and "mtime"). Canonical means one
 * spelling per value, so the parsers refuse signs, spaces and extra zeros.
 */
#ifndef SCANMOVE_DECIMAL_H
#define SCANMOVE_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#define DECIMAL_TIME_MAX 32 /* bytes decimal_format_time may need, NUL included */

/*
 * decimal_parse_u64 - parse the n bytes at s as an unsigned decimal: digits
 * only, no sign, no leading zero unless the number is 0. Returns 0 with the
 * value in *out; -1 for bad syntax; -2 when it does not fit in 64 bits
 * (whichever comes first, reading from the left). *out is set only on 0.
 */
int decimal_parse_u64(const char *s, size_t n, uint64_t *out);

/*
 * decimal_format_time - write the instant sec + nsec / 1e9 (nsec below 1e9,
 * as struct timespec holds it) as its true decimal value with exactly nine
 * fraction digits into out (outlen bytes, DECIMAL_TIME_MAX is enough). Before
 * 1970 with a fraction the value counts down from the whole second:
 * {-1, 999999999} is "-0.000000001", not "-1.999999999".
 */
void decimal_format_time(int64_t sec, uint32_t nsec, char *out, size_t outlen);

/*
 * decimal_parse_time - the reverse of decimal_format_time for the
 * NUL-terminated s: an optional '-', whole seconds as decimal_parse_u64
 * reads them, '.', and nine digits, within a signed 64-bit count of seconds.
 * "-0.000000000" is refused (the canonical zero is "0.000000000"). Returns 0
 * with the instant in *sec and *nsec, or -1.
 */
int decimal_parse_time(const char *s, int64_t *sec, uint32_t *nsec);

#endif
