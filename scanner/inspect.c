/* inspect.c - scan's acceptance rules and content inspection; see inspect.h. */
#include "inspect.h"

#include "beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct inspect_ctx {
    magic_t magic;
    unsigned char buf[INSPECT_PREFIX];
};

static int any_match(const char **pats, const char *s)
{
    for (; pats != NULL && *pats != NULL; pats++)
        if (fnmatch(*pats, s, 0) == 0)
            return 1;
    return 0;
}

static int ts_after(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

enum scan_reason inspect_by_stat(const struct inspect_rules *r, const char *path,
                                 const struct stat *st)
{
    if (any_match(r->exclude, path) ||
        (r->include != NULL && *r->include != NULL && !any_match(r->include, path)))
        return SCAN_REASON_EXCLUDED;
    uint64_t size = (uint64_t)st->st_size;
    if (size < r->min_size)
        return SCAN_REASON_TOO_SMALL;
    if (size > r->max_size)
        return SCAN_REASON_TOO_LARGE;
    if (r->has_min_age && ts_after(&st->st_mtim, &r->young_after))
        return SCAN_REASON_TOO_YOUNG;
    if (r->has_max_age && ts_after(&r->old_before, &st->st_mtim))
        return SCAN_REASON_TOO_OLD;
    return SCAN_REASON_NONE;
}

int inspect_needs_content(const struct inspect_rules *r)
{
    return r->readable || r->want_mime || (r->mime != NULL && *r->mime != NULL);
}

struct inspect_ctx *inspect_ctx_new(char *err, size_t errlen)
{
    struct inspect_ctx *c = malloc(sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    if (c->magic == NULL || magic_load(c->magic, NULL) != 0) {
        snprintf(err, errlen, "cannot load the libmagic database: %s",
                 c->magic ? magic_error(c->magic) : strerror(errno));
        inspect_ctx_free(c);
        return NULL;
    }
    return c;
}

void inspect_ctx_free(struct inspect_ctx *c)
{
    if (c == NULL)
        return;
    if (c->magic != NULL)
        magic_close(c->magic);
    free(c);
}

enum inspect_result inspect_file(struct inspect_ctx *c, const struct inspect_rules *r, int rootfd,
                                 const char *path, const struct stat *st, char *mime,
                                 size_t mimelen, enum scan_reason *reason, char *detail,
                                 size_t dlen)
{
    int mime_rules = r->mime != NULL && *r->mime != NULL;
    mime[0] = '\0';
    detail[0] = '\0';
    /* Reading only, and checked against the listed device and inode
     * below: without openat2, plain openat (O_NOFOLLOW) is safe here. */
    int fd = beneath_open(rootfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0,
                          BENEATH_FALLBACK_OPENAT);
    if (fd < 0) {
        int e = errno;
        snprintf(detail, dlen, "%s", strerror(e));
        if (e == EACCES || e == EPERM) {
            *reason = SCAN_REASON_UNREADABLE;
            return INSPECT_REJECT;
        }
        *reason = e == ENOENT || e == ELOOP || e == ENOTDIR || e == EXDEV ? SCAN_REASON_VANISHED
                                                                          : SCAN_REASON_IO_ERROR;
        return INSPECT_FAIL;
    }
    struct stat now;
    if (fstat(fd, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
        close(fd);
        snprintf(detail, dlen, "replaced since it was listed");
        *reason = SCAN_REASON_VANISHED;
        return INSPECT_FAIL;
    }
    if (!r->want_mime && !mime_rules) {
        close(fd);
        return INSPECT_ACCEPT; /* --readable only: it opened */
    }
    ssize_t n;
    do
        n = pread(fd, c->buf, sizeof c->buf, 0);
    while (n < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (n < 0) {
        snprintf(detail, dlen, "%s", strerror(e));
        *reason = SCAN_REASON_IO_ERROR;
        return INSPECT_FAIL;
    }
    const char *type = magic_buffer(c->magic, c->buf, (size_t)n);
    snprintf(mime, mimelen, "%s", type != NULL ? type : "application/octet-stream");
    if (mime_rules && !any_match(r->mime, mime)) {
        snprintf(detail, dlen, "%s", mime);
        *reason = SCAN_REASON_MIME_NOT_ALLOWED;
        return INSPECT_REJECT;
    }
    if (!r->want_mime)
        mime[0] = '\0';
    return INSPECT_ACCEPT;
}
