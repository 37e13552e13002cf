/*
 * inspect.h - scan's rules: which files are accepted, and their type.
 *
 * Rules that need only the lstat data (name patterns, size, age) run in
 * the walking thread (inspect_by_stat); rules that need the content
 * (--readable, --mime, and the type for the message) run in inspection
 * threads, each with its own libmagic handle (inspect_file), which also
 * hash the whole content under scan --checksum.
 */
#ifndef SCANMOVE_INSPECT_H
#define SCANMOVE_INSPECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "hash.h"
#include "reason.h"

#define INSPECT_PREFIX (64 * 1024)      /* bytes libmagic looks at */
#define INSPECT_HASH_BLOCK (256 * 1024) /* bytes read at a time for --checksum */

struct inspect_rules {
    const char **include; /* fnmatch patterns on the relative path; NULL-terminated or NULL */
    const char **exclude;
    const char **mime;           /* fnmatch patterns on the MIME type */
    uint64_t min_size, max_size; /* max_size UINT64_MAX when unset */
    int has_min_age, has_max_age;
    struct timespec young_after; /* mtime after this: too young (start - min-age) */
    struct timespec old_before;  /* mtime before this: too old (start - max-age) */
    int readable;                /* --readable */
    int want_mime;               /* put the type in the message (not --no-mime) */
    enum hash_alg checksum;      /* --checksum: hash the content; HASH_NONE: not */
};

/*
 * inspect_by_stat - apply the rules that need no I/O to the regular file
 * path (relative, NUL-terminated) with lstat data st. Returns
 * SCAN_REASON_NONE when it passes, or the reason it is rejected: EXCLUDED,
 * TOO_SMALL, TOO_LARGE, TOO_YOUNG or TOO_OLD.
 */
enum scan_reason inspect_by_stat(const struct inspect_rules *r, const char *path,
                                 const struct stat *st);

/* inspect_needs_content - 1 when inspect_file has anything to do. */
int inspect_needs_content(const struct inspect_rules *r);

struct inspect_ctx; /* one per thread: a libmagic handle and a buffer */

/*
 * inspect_ctx_new - load libmagic's database. Returns NULL with a sentence
 * in err when it cannot. Free with inspect_ctx_free (NULL is a no-op).
 */
struct inspect_ctx *inspect_ctx_new(char *err, size_t errlen);
void inspect_ctx_free(struct inspect_ctx *c);

enum inspect_result {
    INSPECT_ACCEPT = 0,
    INSPECT_REJECT, /* a rule said no: reason UNREADABLE or MIME_NOT_ALLOWED */
    INSPECT_FAIL    /* the file is not what the walk saw: VANISHED, IO_ERROR */
};

/* What inspect_file found: the type and the hash for the message, or why
 * the file is not accepted. */
struct inspect_out {
    char *mime; /* mimelen bytes: the type when the rules or the message need it, else "" */
    size_t mimelen;
    char *hash;              /* HASH_STR_MAX + 1 bytes: "ALG:HEX" under --checksum, else "" */
    enum scan_reason reason; /* why not accepted */
    char *detail;            /* dlen bytes: the detail of a non-accept */
    size_t dlen;
};

/*
 * inspect_file - open the file path beneath rootfd without following
 * symlinks (a FIFO can never block: only regular files come here, opened
 * non-blocking), check it is still the file the walk saw (same device and
 * inode as st), and apply --readable and --mime; under --checksum hash the
 * whole content, and check the file still has st's size and mtime once
 * read (else it fails as VANISHED: "changed while it was read"). Fills
 * out (see struct inspect_out).
 */
enum inspect_result inspect_file(struct inspect_ctx *c, const struct inspect_rules *r, int rootfd,
                                 const char *path, const struct stat *st, struct inspect_out *out);

#endif
