/*
 * json_strict.h - a strict RFC 8259 syntax check of raw JSON text.
 *
 * cJSON 1.7.15 accepts more than RFC 8259: a byte order mark, raw control
 * characters in strings, numbers such as 0100644 (read as 100644) or "0.",
 * and it silently ends a string at a "\u0000" escape. msg_decode runs these
 * checks on the raw bytes first, so cJSON only ever sees text that means
 * the same to every parser. Nothing here allocates or builds values.
 */
#ifndef SCANMOVE_JSON_STRICT_H
#define SCANMOVE_JSON_STRICT_H

#include <stddef.h>

/* Arrays and objects nested deeper than this are refused. */
#define JSON_STRICT_MAX_DEPTH 512

/*
 * json_strict_check - are the n bytes at p exactly one JSON text by RFC
 * 8259 (whitespace around it allowed, nothing else), nested at most
 * JSON_STRICT_MAX_DEPTH deep? Returns 1 or 0; on 0, *at is the offset of
 * the defect (n when the text ends too early). The bytes inside strings are
 * not checked for UTF-8 here (see utf8_valid). The stack use is fixed (about
 * JSON_STRICT_MAX_DEPTH bytes), whatever the input. p may be NULL when n is 0.
 */
int json_strict_check(const void *p, size_t n, size_t *at);

/*
 * json_strict_nul_escape - does a string in the n bytes of JSON text at p
 * (keys included) contain the escape \u0000? Outside strings a '"' opens
 * one; inside, a backslash escapes the next character, so "\\u0000" is a
 * backslash and "u0000". Meant for text that may not be valid JSON yet:
 * it never reads past p[n - 1]. Returns 1 or 0.
 */
int json_strict_nul_escape(const void *p, size_t n);

#endif
