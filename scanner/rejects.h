/*
 * rejects.h - the JSON line scan writes for a file it did not publish, to
 * --rejects and, with -v or for failures, to stderr.
 */
#ifndef SCANMOVE_REJECTS_H
#define SCANMOVE_REJECTS_H

#include "msg.h"

#include <stddef.h>

/* Reports may carry a path one name (255 bytes) longer than a message's. */
#define REJECTS_PATH_MAX (MSG_PATH_MAX + 256)

/*
 * rejects_encode - write one JSON object (no newline) describing what
 * happened to a file that was not published:
 * {"root":..,"path":..,"outcome":..,"reason":..,"detail":..}. root and path
 * are bytes (root_b64/path_b64 when not UTF-8; path omitted when path_len
 * is 0; each cut to REJECTS_PATH_MAX bytes, with "truncated":true, so
 * that a path too long by one name still shows whole). outcome and reason
 * must not be NULL; detail (at most 512 bytes are kept) may be. Returns 0
 * with the length in *len, or -1 when buf (cap bytes, NUL included;
 * MSG_MAX_BYTES is always enough) is too small.
 */
int rejects_encode(const char *root, size_t root_len, const char *path, size_t path_len,
                   const char *outcome, const char *reason, const char *detail, char *buf,
                   size_t cap, size_t *len);

#endif
