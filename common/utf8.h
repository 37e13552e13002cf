/* utf8.h - strict UTF-8 validation (RFC 3629), independent of the locale. */
#ifndef SCANMOVE_UTF8_H
#define SCANMOVE_UTF8_H

#include <stddef.h>

/*
 * utf8_valid - are the n bytes at s well-formed UTF-8 as RFC 3629 defines it:
 * no overlong forms, no UTF-16 surrogates (U+D800..U+DFFF), nothing above
 * U+10FFFF, no sequence cut short by the end? Returns 1 or 0. A NUL byte is
 * U+0000 and so valid here; callers that refuse NULs check for them
 * themselves. s may be NULL when n is 0. mbrtowc would do this job only in a
 * UTF-8 locale, and is laxer than RFC 3629 in some C libraries.
 */
int utf8_valid(const void *s, size_t n);

#endif
