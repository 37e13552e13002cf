/* fileop.c - confined, verified, crash-safe file moves, step by step; see
 * fileop.h. The conflict step is in conflict.c, the copy across file
 * systems in copy.c, the flushes in durable.c. */
#include "fileop_priv.h"

#include "beneath.h"
#include "log.h"
#include "mark.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <unistd.h>

/* ---- helpers of every step ---- */

/* Classify errno e into a result and a reason code. ENOENT in a
 * destination directory (in_dest) means the directory was removed under
 * the mover (DEST deleted and made again, a cleanup job deleting empty
 * directories): the file is still at its source, and a later try makes the
 * directory again. */
enum fileop_result fileop_classify(struct move *mv, int e, int in_dest)
{
    enum move_reason *reason = mv->reason;
    switch (e) {
    case ELOOP:
    case EXDEV:
        *reason = MOVE_REASON_SYMLINK;
        return FILEOP_PERMANENT;
    case EACCES:
    case EPERM:
        *reason = MOVE_REASON_PERMISSION_DENIED;
        return FILEOP_PERMANENT;
    case ENOENT:
        *reason = in_dest ? MOVE_REASON_DEST_VANISHED : MOVE_REASON_VANISHED;
        return in_dest ? FILEOP_TRANSIENT : FILEOP_PERMANENT;
    case ENOTDIR:
        *reason = MOVE_REASON_NOT_REGULAR;
        return FILEOP_PERMANENT;
    case ENAMETOOLONG:
        *reason = MOVE_REASON_PATH_TOO_LONG;
        return FILEOP_PERMANENT;
    case ENOSPC:
    case EDQUOT:
        *reason = MOVE_REASON_NO_SPACE;
        return FILEOP_TRANSIENT;
    default:
        *reason = MOVE_REASON_IO_ERROR;
        return FILEOP_TRANSIENT;
    }
}

enum step fileop_fail_errno(struct move *mv, int e, int in_dest, const char *what)
{
    mv->r = fileop_classify(mv, e, in_dest);
    snprintf(mv->err, mv->errlen, "%s: %s", what, strerror(e));
    return STEP_DONE;
}

enum step fileop_fail(struct move *mv, enum fileop_result r, enum move_reason why,
                      const char *sentence)
{
    mv->r = r;
    *mv->reason = why;
    snprintf(mv->err, mv->errlen, "%s", sentence);
    return STEP_DONE;
}

static enum step vanished(struct move *mv)
{
    return fileop_fail(mv, FILEOP_PERMANENT, MOVE_REASON_VANISHED,
                       "the source is gone and the destination does not hold it");
}

int fileop_same_as_msg(const struct stat *st, const struct msg *m, enum same how)
{
    return S_ISREG(st->st_mode) && (uint64_t)st->st_size == m->size &&
           st->st_mtim.tv_sec == m->mtime_sec && (uint64_t)st->st_mtim.tv_nsec == m->mtime_nsec &&
           (how == SAME_CONTENT || st->st_ino == m->ino) &&
           (how != SAME_DEVICE_INODE || st->st_dev == m->dev);
}

int fileop_still_there(int dir, const char *base, const struct stat *st)
{
    struct stat now;
    return fstatat(dir, base, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == st->st_dev &&
           now.st_ino == st->st_ino;
}

void fileop_join(char *out, const char *dir, const char *name)
{
    snprintf(out, MSG_PATH_MAX + 32, "%s%s%s", dir, dir[0] ? "/" : "", name);
}

int fileop_fsync(const struct fileop_opts *o, int fd)
{
    return durable_fsync(fd, o->tick, o->tick_arg);
}

int fileop_dir_durable(const struct move *mv, int dir, enum fileop_when when)
{
    const struct fileop_opts *o = mv->o;
    if (o->sync != NULL && durable_group_add(o->sync, dir) == 0)
        return 0;
    if (o->sync == NULL && when == FILEOP_WITH_FSYNC)
        return 0;
    return fileop_fsync(o, dir);
}

char *fileop_buf(struct move *mv)
{
    if (mv->buf == NULL)
        mv->buf = mv->own_buf = malloc(FILEOP_BUF_SIZE);
    return mv->buf;
}

/* Split path into its directory (copied into dir, "" for none) and base name. */
static const char *split(const char *path, char *dir, size_t dirlen)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        dir[0] = '\0';
        return path;
    }
    size_t n = (size_t)(slash - path);
    if (n >= dirlen)
        n = dirlen - 1;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return slash + 1;
}

/* Open the directory dir (with create, making what is missing, each new one
 * flushed into its parent)
 * beneath root, one component at a time, never through a symlink. */
static int open_dest_dir(int root, const char *dir, int create, const struct fileop_opts *o)
{
    if (dir[0] == '\0')
        return fcntl(root, F_DUPFD_CLOEXEC, 0);
    char part[MSG_PATH_MAX + 1];
    int fd = fcntl(root, F_DUPFD_CLOEXEC, 0);
    const char *p = dir;
    while (fd >= 0 && *p != '\0') {
        size_t n = strcspn(p, "/");
        memcpy(part, p, n);
        part[n] = '\0';
        p += n;
        while (*p == '/')
            p++;
        if (n == 0 || strcmp(part, ".") == 0)
            continue;
        int next = beneath_open(fd, part, O_RDONLY | O_DIRECTORY, 0, BENEATH_STRICT);
        if (next < 0 && errno == ENOENT && create) {
            /* A new directory's entry must reach the disk before any file
             * moved into it is acknowledged: flush its parent now (rare:
             * once per directory). */
            if ((mkdirat(fd, part, 0755) < 0 && errno != EEXIST) || fileop_fsync(o, fd) < 0) {
                int e = errno;
                close(fd);
                errno = e;
                return -1;
            }
            next = beneath_open(fd, part, O_RDONLY | O_DIRECTORY, 0, BENEATH_STRICT);
        }
        int e = errno;
        close(fd);
        errno = e;
        fd = next;
    }
    return fd;
}

/* Open (making what is missing) the destination directory dir, trying
 * again when a directory on the way is removed meanwhile. */
static int open_dest_dir_retry(int root, const char *dir, const struct fileop_opts *o)
{
    int fd = -1;
    for (int tries = 0; tries < 3; tries++) {
        fd = open_dest_dir(root, dir, 1, o);
        if (fd >= 0 || errno != ENOENT)
            break;
    }
    return fd;
}

/*
 * Take an exclusive flock(2) on the open source, waiting (with heartbeats)
 * while another mover holds it: that one is copying the same file, for a
 * redelivery of this message (the broker took it back when its consumer
 * timeout passed) or for a duplicate message. Returns 0 when held (or when
 * the file system has no locks), 1 when *stop was set while waiting, -1
 * with errno on error.
 */
static int lock_source(int src, const struct fileop_opts *o, const char *path)
{
    if (flock(src, LOCK_EX | LOCK_NB) == 0)
        return 0;
    /* No locks here (EBADF: NFS emulates flock with byte-range locks, which
     * a read-only descriptor cannot take): go on unlocked. */
    if (errno == ENOLCK || errno == EINVAL || errno == EOPNOTSUPP || errno == EBADF)
        return 0;
    if (errno != EWOULDBLOCK)
        return -1;
    log_info("another process holds a lock on %s (another mover moving it?); waiting", path);
    const struct timespec pause = {0, 50 * 1000 * 1000};
    for (;;) {
        if (o->stop != NULL && *o->stop)
            return 1;
        nanosleep(&pause, NULL);
        if (o->tick != NULL)
            o->tick(o->tick_arg);
        if (flock(src, LOCK_EX | LOCK_NB) == 0)
            return 0;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return -1;
    }
}

/* ---- the steps, in order ---- */

/* The source must still be the scanned file; open (make) the destination
 * directory for it. A source that is gone creates nothing at DEST: its
 * directory is only looked into, for a finished move. */
static enum step check_source(struct move *mv)
{
    if (mv->base[0] == '\0' || strcmp(mv->base, ".") == 0 || mv->dbase[0] == '\0' ||
        strcmp(mv->dbase, ".") == 0)
        return fileop_fail(mv, FILEOP_PERMANENT, MOVE_REASON_NOT_REGULAR,
                           "the path names a directory");
    mv->sdir = mv->dir[0]
                   ? beneath_open(mv->srcroot, mv->dir, O_RDONLY | O_DIRECTORY, 0, BENEATH_STRICT)
                   : fcntl(mv->srcroot, F_DUPFD_CLOEXEC, 0);
    if (mv->sdir < 0 && errno != ENOENT)
        return fileop_fail_errno(mv, errno, 0, "cannot open the source directory");
    int have_src = mv->sdir >= 0 && fstatat(mv->sdir, mv->base, &mv->st, AT_SYMLINK_NOFOLLOW) == 0;
    if (have_src && !S_ISREG(mv->st.st_mode))
        return fileop_fail(mv, FILEOP_PERMANENT,
                           S_ISLNK(mv->st.st_mode) ? MOVE_REASON_SYMLINK : MOVE_REASON_NOT_REGULAR,
                           "the source is no longer a regular file");
    if (have_src && !fileop_same_as_msg(&mv->st, mv->m, mv->ident))
        return fileop_fail(mv, FILEOP_PERMANENT, MOVE_REASON_CHANGED,
                           "the source changed since it was scanned");
    mv->ddir = have_src ? open_dest_dir_retry(mv->dstroot, mv->ddirp, mv->o)
                        : open_dest_dir(mv->dstroot, mv->ddirp, 0, mv->o);
    if (mv->ddir < 0 && !have_src && errno == ENOENT)
        return vanished(mv);
    if (mv->ddir < 0)
        return fileop_fail_errno(mv, errno, 1, "cannot create the destination directory");
    return have_src ? STEP_ON : STEP_GONE;
}

int fileop_rename_noreplace(int sdir, const char *sname, int ddir, const char *dname)
{
    if (renameat2(sdir, sname, ddir, dname, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    struct stat placed, now;
    if (linkat(sdir, sname, ddir, dname, 0) < 0)
        return -1;
    /* Not atomic: a file put at sname since the link is not ours to remove.
     * A window stays between this look and the unlink (on NFS as long as
     * the client trusts its cached attributes). */
    if (fstatat(ddir, dname, &placed, AT_SYMLINK_NOFOLLOW) < 0 ||
        fstatat(sdir, sname, &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_ino != placed.st_ino ||
        now.st_dev != placed.st_dev)
        return 0;
    if (unlinkat(sdir, sname, 0) < 0 && errno != ENOENT) {
        /* Take the new name back only while both still name the file (an
         * unlink over NFS may fail after the server removed it); else the
         * redelivery finishes: the same bytes at DEST, the source removed. */
        int e = errno;
        if (fstatat(sdir, sname, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_ino == placed.st_ino &&
            now.st_dev == placed.st_dev && fstatat(ddir, dname, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
            now.st_ino == placed.st_ino && now.st_dev == placed.st_dev)
            unlinkat(ddir, dname, 0);
        errno = e;
        return -1;
    }
    return 0;
}
/* Same file system: one atomic rename that never replaces. ENOENT says the
 * source is gone (another mover took it a moment ago), or that the
 * destination directory was removed since it was opened: then open (make)
 * it again and retry. EEXIST and EXDEV go on to the slow paths. */
static enum step try_rename(struct move *mv)
{
    int src_there = 1, e;
    for (int tries = 0;; tries++) {
        if (fileop_rename_noreplace(mv->sdir, mv->base, mv->ddir, mv->dbase) == 0) {
            mv->placed = mv->dbase;
            return STEP_PLACED;
        }
        e = errno;
        if (e != ENOENT || !(src_there = fileop_still_there(mv->sdir, mv->base, &mv->st)) ||
            tries == 3)
            break;
        close(mv->ddir);
        mv->ddir = open_dest_dir_retry(mv->dstroot, mv->ddirp, mv->o);
        if (mv->ddir < 0)
            return fileop_fail_errno(mv, errno, 1, "cannot create the destination directory");
    }
    if (e == ENOENT && !src_there)
        return STEP_GONE;
    if (e == ENOENT) {
        mv->r = fileop_classify(mv, e, 1);
        snprintf(mv->err, mv->errlen, "the destination directory was removed while moving into it");
        return STEP_DONE;
    }
    if (e != EEXIST && e != EXDEV)
        return fileop_fail_errno(mv, e, 0, "cannot rename");
    mv->e = e;
    return STEP_ON;
}

/* The slow paths: hold the source's lock, so that two movers never work
 * on one file at once, and check it again once held. */
static enum step hold_source(struct move *mv)
{
    /* O_NONBLOCK: a FIFO put in its place must not hang the mover (the
     * identity check below refuses it; regular files ignore the flag). */
    mv->src = openat(mv->sdir, mv->base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (mv->src < 0 && errno == ENOENT)
        return STEP_GONE;
    if (mv->src < 0)
        return fileop_fail_errno(mv, errno, 0, "cannot open the source");
    int lk = lock_source(mv->src, mv->o, mv->m->path);
    if (lk != 0)
        return fileop_fail(mv, FILEOP_TRANSIENT, lk > 0 ? MOVE_REASON_BUSY : MOVE_REASON_IO_ERROR,
                           lk > 0 ? "stopped while another mover held the file"
                                  : "cannot lock the source");
    unlinkat(mv->ddir, mv->tname, 0);
    unlinkat(mv->ddir, mv->pname, 0);
    struct stat now, dst;
    if (fstatat(mv->sdir, mv->base, &now, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return STEP_GONE;
        return fileop_fail_errno(mv, errno, 0, "cannot check the source");
    }
    if (fstat(mv->src, &mv->st) < 0 || now.st_dev != mv->st.st_dev || now.st_ino != mv->st.st_ino ||
        !fileop_same_as_msg(&mv->st, mv->m, mv->ident))
        return fileop_fail(mv, FILEOP_PERMANENT, MOVE_REASON_CHANGED,
                           "the source changed since it was scanned");
    /* Across filesystems rename says EXDEV before it looks at the target:
     * a name taken at DEST is a conflict (or a finished copy) all the same. */
    if (mv->e == EXDEV && fstatat(mv->ddir, mv->dbase, &dst, AT_SYMLINK_NOFOLLOW) == 0)
        mv->e = EEXIST;
    return STEP_ON;
}

/* With --fsync, the renames reach the disk before the ack. */
static enum step sync_renames(struct move *mv)
{
    if (fileop_dir_durable(mv, mv->ddir, FILEOP_WITH_FSYNC) < 0 ||
        (mv->sdir >= 0 && fileop_dir_durable(mv, mv->sdir, FILEOP_WITH_FSYNC) < 0))
        return fileop_fail_errno(mv, errno, 0, "cannot make the rename durable");
    return STEP_DONE;
}

/* Gone from the source: done before (a redelivery), or vanished. A crash
 * in remove_source may have left the source under its private name: once
 * the copy is known done, remove it. */
static enum step finish_gone(struct move *mv)
{
    struct stat now;
    if (!conflict_already_done(mv))
        return vanished(mv);
    if (mv->sdir >= 0 && fstatat(mv->sdir, mv->dname, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
        fileop_same_as_msg(&now, mv->m, mv->ident))
        unlinkat(mv->sdir, mv->dname, 0);
    /* A mover killed between its rename and its removal of scan's mark
     * left the mark on the file at DEST: this redelivery removes it. */
    mark_remove_at(mv->ddir, mv->placed);
    /* Found under a conflict name: that is where the file is (the log
     * line, the moved event). */
    fileop_join(mv->final_path, mv->ddirp, mv->placed);
    mv->r = FILEOP_DUPLICATE;
    return sync_renames(mv);
}

/* The name was checked, then renamed: if another file took the name in
 * between, that one moved. Put it back; the scanned one is not there. */
static enum step verify_placement(struct move *mv)
{
    struct stat now;
    if (fstatat(mv->ddir, mv->placed, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
        (now.st_dev != mv->st.st_dev || now.st_ino != mv->st.st_ino)) {
        *mv->reason = MOVE_REASON_CHANGED;
        mv->r = FILEOP_PERMANENT;
        if (fileop_rename_noreplace(mv->ddir, mv->placed, mv->sdir, mv->base) == 0)
            snprintf(mv->err, mv->errlen, "the source was replaced while being moved; put back");
        else
            snprintf(mv->err, mv->errlen,
                     "the source was replaced while being moved, and the new file could not "
                     "be put back (%s): it is at the destination",
                     strerror(errno));
        snprintf(mv->final_path, MSG_PATH_MAX + 32, "%s", mv->m->path);
        return STEP_DONE;
    }
    /* scan's in-flight mark came along with the rename: the file has
     * arrived, so it is no longer queued. A file the mover may not change
     * keeps it, which is harmless: its id names the source root and path. */
    mark_remove_at(mv->ddir, mv->placed);
    mv->r = FILEOP_MOVED;
    enum step s = verify_placed(mv);
    return s == STEP_ON ? sync_renames(mv) : s;
}

/* ---- the move ---- */

static void move_init(struct move *mv, int srcroot, int dstroot, const struct msg *m,
                      const struct fileop_opts *o)
{
    memset(mv, 0, sizeof *mv);
    mv->m = m;
    mv->o = o;
    mv->srcroot = srcroot;
    mv->dstroot = dstroot;
    mv->base = split(m->path, mv->dir, sizeof mv->dir);
    mv->dpath = o->dest_rel != NULL ? o->dest_rel : m->path;
    mv->dbase = split(mv->dpath, mv->ddirp, sizeof mv->ddirp);
    snprintf(mv->tname, sizeof mv->tname, ".scanmove-%s.tmp", m->id);
    snprintf(mv->dname, sizeof mv->dname, ".scanmove-%s.del", m->id);
    snprintf(mv->pname, sizeof mv->pname, ".scanmove-%s.probe", m->id);
    mv->ident = o->other_host ? SAME_INODE : SAME_DEVICE_INODE;
    mv->sdir = mv->ddir = mv->src = mv->tmp = -1;
    mv->buf = o->buf;
}

static void move_end(struct move *mv)
{
    if (mv->tmp >= 0)
        close(mv->tmp);
    if (mv->named) /* a named copy that did not reach its place */
        unlinkat(mv->ddir, mv->tname, 0);
    if (mv->src >= 0)
        close(mv->src);
    if (mv->sdir >= 0)
        close(mv->sdir);
    if (mv->ddir >= 0)
        close(mv->ddir);
    free(mv->own_buf);
}

enum fileop_result fileop_move(int srcroot, int dstroot, const struct msg *m,
                               const struct fileop_opts *o, char *final_path,
                               enum move_reason *reason, char *err, size_t errlen)
{
    struct move mv;
    move_init(&mv, srcroot, dstroot, m, o);
    if (o->notes != NULL)
        memset(o->notes, 0, sizeof *o->notes);
    mv.final_path = final_path;
    mv.reason = reason;
    mv.err = err;
    mv.errlen = errlen;
    snprintf(final_path, MSG_PATH_MAX + 32, "%s", mv.dpath);

    /* The scratch buffer before anything else: without it a finished copy
     * could not be told from another file (conflict.c), and a conflict
     * policy would then act on our own copy. Short of memory, try later. */
    enum step s = fileop_buf(&mv) != NULL ? STEP_ON
                                          : fileop_fail(&mv, FILEOP_TRANSIENT, MOVE_REASON_IO_ERROR,
                                                        "cannot move: out of memory");
    if (s == STEP_ON)
        s = check_source(&mv);
    if (s == STEP_ON)
        s = verify_source(&mv);
    if (s == STEP_ON)
        s = try_rename(&mv);
    if (s == STEP_ON)
        s = hold_source(&mv);
    if (s == STEP_ON)
        s = conflict_resolve(&mv);
    if (s == STEP_ON)
        s = copy_across(&mv);
    if (s == STEP_GONE)
        s = finish_gone(&mv);
    else if (s == STEP_PLACED)
        s = verify_placement(&mv);
    move_end(&mv);
    return mv.r;
}
