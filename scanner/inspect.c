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
    char *hbuf; /* INSPECT_HASH_BLOCK bytes under --checksum, allocated on first use */
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
    return r->readable || r->want_mime || (r->mime != NULL && *r->mime != NULL) ||
           r->checksum != HASH_NONE;
}

struct inspect_ctx *inspect_ctx_new(char *err, size_t errlen)
{
    struct inspect_ctx *c = malloc(sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->hbuf = NULL;
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
    free(c->hbuf);
    free(c);
}

/* Fail the inspection with reason and a detail (errno e's text, or why). */
static enum inspect_result failed(struct inspect_out *out, enum inspect_result res,
                                  enum scan_reason reason, int e, const char *why)
{
    snprintf(out->detail, out->dlen, "%s", why != NULL ? why : strerror(e));
    out->reason = reason;
    return res;
}

/* The type of the open file by its first bytes, and --mime's verdict. */
static enum inspect_result find_type(struct inspect_ctx *c, const struct inspect_rules *r, int fd,
                                     struct inspect_out *out)
{
    ssize_t n;
    do
        n = pread(fd, c->buf, sizeof c->buf, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return failed(out, INSPECT_FAIL, SCAN_REASON_IO_ERROR, errno, NULL);
    const char *type = magic_buffer(c->magic, c->buf, (size_t)n);
    snprintf(out->mime, out->mimelen, "%s", type != NULL ? type : "application/octet-stream");
    if (r->mime != NULL && *r->mime != NULL && !any_match(r->mime, out->mime))
        return failed(out, INSPECT_REJECT, SCAN_REASON_MIME_NOT_ALLOWED, 0, out->mime);
    if (!r->want_mime)
        out->mime[0] = '\0';
    return INSPECT_ACCEPT;
}

/* --checksum: the whole content of the open file into out->hash, read
 * through the thread's own buffer. The file must still have the size and
 * mtime the walk saw once read through: those go in the message beside
 * the hash, and a file written meanwhile may have been hashed half old,
 * half new. */
static enum inspect_result hash_file(struct inspect_ctx *c, const struct inspect_rules *r, int fd,
                                     const struct stat *st, struct inspect_out *out)
{
    if (c->hbuf == NULL && (c->hbuf = malloc(INSPECT_HASH_BLOCK)) == NULL)
        return failed(out, INSPECT_FAIL, SCAN_REASON_IO_ERROR, ENOMEM, NULL);
    if (hash_fd(fd, r->checksum, c->hbuf, INSPECT_HASH_BLOCK, NULL, NULL, out->hash) < 0)
        return failed(out, INSPECT_FAIL, SCAN_REASON_IO_ERROR, errno, NULL);
    struct stat now;
    if (fstat(fd, &now) < 0 || now.st_size != st->st_size ||
        now.st_mtim.tv_sec != st->st_mtim.tv_sec || now.st_mtim.tv_nsec != st->st_mtim.tv_nsec) {
        out->hash[0] = '\0';
        return failed(out, INSPECT_FAIL, SCAN_REASON_VANISHED, 0, "changed while it was read");
    }
    return INSPECT_ACCEPT;
}

enum inspect_result inspect_file(struct inspect_ctx *c, const struct inspect_rules *r, int rootfd,
                                 const char *path, const struct stat *st, struct inspect_out *out)
{
    out->mime[0] = '\0';
    out->hash[0] = '\0';
    out->detail[0] = '\0';
    /* Reading only, and checked against the listed device and inode
     * below: without openat2, plain openat (O_NOFOLLOW) is safe here. */
    int fd = beneath_open(rootfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0,
                          BENEATH_FALLBACK_OPENAT);
    if (fd < 0) {
        int e = errno;
        if (e == EACCES || e == EPERM)
            return failed(out, INSPECT_REJECT, SCAN_REASON_UNREADABLE, e, NULL);
        return failed(out, INSPECT_FAIL,
                      e == ENOENT || e == ELOOP || e == ENOTDIR || e == EXDEV
                          ? SCAN_REASON_VANISHED
                          : SCAN_REASON_IO_ERROR,
                      e, NULL);
    }
    struct stat now;
    enum inspect_result res = INSPECT_ACCEPT;
    if (fstat(fd, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino)
        res = failed(out, INSPECT_FAIL, SCAN_REASON_VANISHED, 0, "replaced since it was listed");
    /* --readable alone: it opened. */
    if (res == INSPECT_ACCEPT && (r->want_mime || (r->mime != NULL && *r->mime != NULL)))
        res = find_type(c, r, fd, out);
    if (res == INSPECT_ACCEPT && r->checksum != HASH_NONE)
        res = hash_file(c, r, fd, st, out);
    close(fd);
    return res;
}
