/*
 * opts.h - parsing of the numbers users type: counts, sizes and durations.
 *
 * Each parser takes the whole string (no trailing junk, no sign, no spaces),
 * checks the range, and on failure writes a sentence such as
 * "'12X' is not a size (use a number with an optional K, M, G or T suffix)"
 * into err. The caller adds the option name. Pure functions, no I/O.
 */
#ifndef SCANMOVE_OPTS_H
#define SCANMOVE_OPTS_H

#include <stddef.h>
#include <stdint.h>

/*
 * opts_read_digits - read the run of ASCII decimal digits at the start of s,
 * looking at no more than n bytes, as an unsigned 64-bit number. Reading
 * stops at the first byte that is not a digit, so a NUL-terminated string
 * may be passed with n = SIZE_MAX. Leading zeros are fine; a sign, a space
 * or a base prefix is not a digit (strtoull would accept all three). Returns
 * 1 with the value in *v and the count of digits in *used; 0 when s does
 * not start with a digit; -1 as soon as the number outgrows 64 bits. *v and
 * *used are set only on 1. The one digit loop of the project: options, the
 * message's decimal strings and the URL's port all read numbers with it.
 */
int opts_read_digits(const char *s, size_t n, uint64_t *v, size_t *used);

/*
 * opts_parse_u64 - parse a decimal unsigned number within [min, max] into
 * *out. Returns 0, or -1 with a sentence in err (errlen bytes, may be 0).
 * s and out must not be NULL.
 */
int opts_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err,
                   size_t errlen);

/*
 * opts_parse_size - parse a byte count: a decimal number with an optional
 * binary suffix K, M, G or T (case-insensitive, 1024-based), optionally
 * followed by "B" or "iB" ("10K", "5MiB", "1g", "512"). Returns 0, or -1
 * with a sentence in err on junk or overflow of 64 bits.
 */
int opts_parse_size(const char *s, uint64_t *out, char *err, size_t errlen);

/*
 * opts_parse_duration - parse a duration into milliseconds: one or more
 * number-unit pairs with units ms, s, m, h or d ("30s", "5m", "1h30m",
 * "250ms"); a bare number means seconds. Returns 0, or -1 with a sentence
 * in err on junk or overflow.
 */
int opts_parse_duration(const char *s, uint64_t *out_ms, char *err, size_t errlen);

#endif
