/* requeue.c - is a dead letter worth requeueing; see requeue.h. */
#include "requeue.h"

#include "beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const names[REQUEUE__COUNT] = {
    [REQUEUE_PUT_BACK] = "requeue",
    [REQUEUE_DROP_GONE] = "gone",
    [REQUEUE_DROP_CHANGED] = "changed",
    [REQUEUE_DROP_AT_DEST] = "at-dest",
};

const char *requeue_verdict_name(enum requeue_verdict v)
{
    return (int)v >= 0 && v < REQUEUE__COUNT ? names[v] : "requeue";
}

/* lstat of path beneath dir, following no link: 0, or -1 with errno
 * (ELOOP for a symbolic link on the way or at the end). ENOENT only when
 * path's directory is there and the name is not in it: a directory
 * missing on the way (a file system not mounted here) is EHOSTDOWN, which
 * judges nothing. Without openat2(2), nothing is judged either. */
static int stat_beneath(int dir, const char *path, struct stat *st)
{
    const char *slash = strrchr(path, '/');
    char parent[MSG_PATH_MAX + 1];
    int pfd = dir;
    if (slash != NULL) {
        memcpy(parent, path, (size_t)(slash - path));
        parent[slash - path] = '\0';
        pfd = beneath_open(dir, parent, O_PATH | O_DIRECTORY, 0, BENEATH_STRICT);
        if (pfd < 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                errno = EHOSTDOWN;
            return -1;
        }
    }
    int fd =
        beneath_open(pfd, slash != NULL ? slash + 1 : path, O_PATH | O_NOFOLLOW, 0, BENEATH_STRICT);
    int rc = fd < 0 ? -1 : fstat(fd, st);
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (pfd != dir)
        close(pfd);
    errno = e;
    return rc;
}

static int gone(int e)
{
    return e == ENOENT || e == ENOTDIR;
}

/* Is st the regular file of m's size and mtime? */
static int same_size_time(const struct stat *st, const struct msg *m)
{
    return S_ISREG(st->st_mode) && (uint64_t)st->st_size == m->size &&
           st->st_mtim.tv_sec == m->mtime_sec && (uint64_t)st->st_mtim.tv_nsec == m->mtime_nsec;
}

enum requeue_verdict requeue_judge(const struct msg *m, int root_fd, int dest_fd,
                                   const char *dest_rel, const char *host)
{
    int here = strcmp(m->host, host) == 0;
    struct stat src, dst;
    int own = -1, src_rc = -1, src_errno = 0;
    if (root_fd < 0 && !here)
        return REQUEUE_PUT_BACK; /* another host's file system: nothing to judge by here */
    if (root_fd < 0)             /* decoded, so absolute and without ".." */
        root_fd = own = open(m->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        return REQUEUE_PUT_BACK; /* the root is not here (not mounted?): judge nothing */
    src_rc = stat_beneath(root_fd, m->path, &src);
    src_errno = errno;
    if (own >= 0)
        close(own);
    int dst_rc =
        dest_fd >= 0 ? stat_beneath(dest_fd, dest_rel != NULL ? dest_rel : m->path, &dst) : -1;
    if (dst_rc == 0 && S_ISREG(dst.st_mode) && dst.st_ino == m->ino &&
        (!here || dst.st_dev == m->dev) && same_size_time(&dst, m))
        return REQUEUE_DROP_AT_DEST; /* renamed there, on one file system */
    if (src_rc < 0 && gone(src_errno))
        return dst_rc == 0 && same_size_time(&dst, m) ? REQUEUE_DROP_AT_DEST : REQUEUE_DROP_GONE;
    if (src_rc < 0)
        return src_errno == ELOOP ? REQUEUE_DROP_CHANGED : REQUEUE_PUT_BACK;
    if (!same_size_time(&src, m) || src.st_ino != m->ino || (here && src.st_dev != m->dev))
        return REQUEUE_DROP_CHANGED;
    return REQUEUE_PUT_BACK;
}
