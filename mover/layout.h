/*
 * layout.h - move --layout TEMPLATE: where a file lands beneath DEST,
 * computed from its message alone, so that a redelivery lands in the
 * same place.
 *
 * Placeholders: {path} {dir} {name} {stem} {ext} {mime} {mime_type}
 * {mime_subtype} {mtime:STRFTIME} {mtime_utc:STRFTIME} {size}
 * {root_name} {host}; "{{" and "}}" are literal braces. See move(1).
 */
#ifndef SCANMOVE_MOVER_LAYOUT_H
#define SCANMOVE_MOVER_LAYOUT_H

#include <stddef.h>

#include "msg.h"

struct layout;

/*
 * layout_parse - compile tmpl. Returns the layout (free with
 * layout_free), or NULL with a sentence in err naming the defect: an
 * unknown placeholder, an unbalanced brace, a template that could leave
 * DEST (absolute, or with a ".." component), or no memory. The caller
 * exits 64 on it.
 */
struct layout *layout_parse(const char *tmpl, char *err, size_t errlen);

/* layout_is_identity - 1 when l is "{path}" (the default): every file at
 * its relative path, nothing to expand. */
int layout_is_identity(const struct layout *l);

/*
 * layout_expand - the destination path of m beneath DEST into out
 * (outlen bytes; MSG_PATH_MAX + 1 is enough for any valid result).
 * Returns 0; or -1 with a sentence in err when the expansion has an
 * empty, "." or ".." component, a component over NAME_MAX bytes, or is
 * over MSG_PATH_MAX bytes (the caller dead-letters the message as
 * bad-layout).
 */
int layout_expand(const struct layout *l, const struct msg *m, char *out, size_t outlen, char *err,
                  size_t errlen);

void layout_free(struct layout *l);

#endif
