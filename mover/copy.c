/* copy.c - the move across file systems: copy into an unnamed (or private)
 * temporary, make it durable, give it its name, then remove the source. */
#include "fileop_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Copy the rest of src into tmp, by copy_file_range where the kernel can,
 * else through the move's buffer. Returns 0, or -1 with errno. */
static int copy_bytes(struct move *mv, int src, int tmp, off_t size)
{
    off_t done = 0;
    while (done < size) {
        ssize_t n = copy_file_range(src, NULL, tmp, NULL, FILEOP_BUF_SIZE, 0);
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS)) {
            char *buf = fileop_buf(mv);
            n = buf == NULL ? -1 : read(src, buf, FILEOP_BUF_SIZE);
            for (ssize_t w = 0, k; n > 0 && w < n; w += k) {
                k = write(tmp, buf + w, (size_t)(n - w));
                if (k < 0) { /* errno says why: ENOSPC, EIO, ... */
                    n = -1;
                    break;
                }
            }
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        done += n;
        if (mv->o->copied != NULL)
            *mv->o->copied += (uint64_t)n;
        if (mv->o->tick != NULL)
            mv->o->tick(mv->o->tick_arg);
    }
    return 0;
}

/*
 * Copy the source into a new file in ddir with its owner, mode and times,
 * open for reading and writing, not flushed yet: an unnamed one (O_TMPFILE), or, where the
 * filesystem has none (NFS, CIFS, ...) or o->named_temp asks, one called tname (mv->named = 1),
 * which the caller renames into place or removes. Returns the open
 * temporary, or -1 with errno (and no file left behind).
 */
static int copy_to_tmpfile(struct move *mv)
{
    const struct stat *st = &mv->st;
    int tmp = -1;
    mv->named = 0;
    if (!mv->o->named_temp)
        tmp = openat(mv->ddir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, st->st_mode & 07777);
    if (tmp < 0 &&
        (mv->o->named_temp || errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        tmp = openat(mv->ddir, mv->tname, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC,
                     st->st_mode & 0700);
        mv->named = tmp >= 0;
    }
    if (tmp < 0)
        return -1;
    struct timespec times[2] = {st->st_atim, st->st_mtim};
    if (copy_bytes(mv, mv->src, tmp, st->st_size) == 0 &&
        (geteuid() != 0 || fchown(tmp, st->st_uid, st->st_gid) == 0) &&
        fchmod(tmp, st->st_mode & 07777) == 0 && futimens(tmp, times) == 0)
        return tmp;
    int e = errno;
    close(tmp);
    if (mv->named)
        unlinkat(mv->ddir, mv->tname, 0);
    mv->named = 0;
    errno = e;
    return -1;
}

/* Give the unnamed file tmp the name name in dir. */
static int link_tmpfile(int tmp, int dir, const char *name)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", tmp);
    return linkat(AT_FDCWD, proc, dir, name, AT_SYMLINK_FOLLOW);
}

/*
 * Put the finished copy tmp (unnamed, or named tname) in dir under target:
 * never replacing a file there (EEXIST), or, with replace, replacing it
 * atomically. A named temporary is gone once this succeeds.
 */
static int place_copy(int tmp, int named, int dir, const char *tname, const char *target,
                      int replace)
{
    if (named) {
        if (replace)
            return renameat(dir, tname, dir, target);
        if (renameat2(dir, tname, dir, target, RENAME_NOREPLACE) == 0)
            return 0;
        if (errno != EINVAL && errno != ENOSYS)
            return -1;
        /* No RENAME_NOREPLACE here (NFS): link, which never replaces, then unlink. */
        if (linkat(dir, tname, dir, target, 0) < 0)
            return -1;
        unlinkat(dir, tname, 0);
        return 0;
    }
    if (!replace)
        return link_tmpfile(tmp, dir, target);
    /* Link under the temporary name, then rename over the old file. */
    if (link_tmpfile(tmp, dir, tname) == 0 && renameat(dir, tname, dir, target) == 0)
        return 0;
    int e = errno;
    unlinkat(dir, tname, 0);
    errno = e;
    return -1;
}

/* Give the finished copy its name: base, or under --on-conflict rename the
 * first free conflict name (*target says which); overwrite replaces. */
static enum step name_copy(struct move *mv, const char **target)
{
    *target = mv->dbase;
    for (unsigned n = 0;; n++) {
        if (n > 0) {
            conflict_name(mv->dbase, n, mv->name, sizeof mv->name);
            *target = mv->name;
        }
        struct stat dst;
        int replace = mv->o->conflict == FILEOP_OVERWRITE && n == 0 &&
                      fstatat(mv->ddir, mv->dbase, &dst, AT_SYMLINK_NOFOLLOW) == 0;
        if (place_copy(mv->tmp, mv->named, mv->ddir, mv->tname, *target, replace) == 0) {
            mv->named = 0;
            return STEP_ON;
        }
        int e = errno;
        if (e == EEXIST && mv->o->conflict == FILEOP_RENAME && n <= 100000)
            continue;
        if (e == EEXIST && mv->o->conflict != FILEOP_OVERWRITE) {
            *mv->reason = MOVE_REASON_EXISTS;
            mv->r = FILEOP_PERMANENT;
        } else {
            mv->r = fileop_classify(mv, e, 1);
        }
        snprintf(mv->err, mv->errlen, "cannot %s the copy: %s", replace ? "replace with" : "link",
                 strerror(e));
        return STEP_DONE;
    }
}

/*
 * Remove the copied source base of dir, the inode st and no other: it is
 * first renamed to the private dname, where nobody replaces it, checked,
 * and only then unlinked (a file put in its place meanwhile is renamed
 * back). Returns 0 (also when it is gone already), or -1 with errno.
 */
static int remove_source(int dir, const char *base, const struct stat *st, const char *dname)
{
    struct stat now;
    if (renameat2(dir, base, dir, dname, RENAME_NOREPLACE) < 0) {
        if (errno == ENOENT)
            return 0;
        if (errno != EINVAL && errno != ENOSYS)
            return -1;
        /* No RENAME_NOREPLACE (NFS): check by name, then unlink. */
        if (fstatat(dir, base, &now, AT_SYMLINK_NOFOLLOW) < 0)
            return errno == ENOENT ? 0 : -1;
        if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
            return 0;
        return unlinkat(dir, base, 0) < 0 && errno != ENOENT ? -1 : 0;
    }
    if (fstatat(dir, dname, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
        (now.st_dev != st->st_dev || now.st_ino != st->st_ino)) {
        renameat2(dir, dname, dir, base, RENAME_NOREPLACE);
        return 0; /* the copied inode is no longer there to remove */
    }
    return unlinkat(dir, dname, 0) < 0 && errno != ENOENT ? -1 : 0;
}

/* The source stays (read-only directory, sticky bit, ...): take the copy
 * named target back, so that the file is not in both places, nor copied
 * again under another name by the next try. */
static enum step take_back(struct move *mv, const char *target, int e)
{
    struct stat mine, at;
    if (fstat(mv->tmp, &mine) == 0 && fstatat(mv->ddir, target, &at, AT_SYMLINK_NOFOLLOW) == 0 &&
        mine.st_dev == at.st_dev && mine.st_ino == at.st_ino)
        unlinkat(mv->ddir, target, 0);
    fileop_fail_errno(mv, e, 0, "cannot remove the source after copying it");
    snprintf(mv->final_path, MSG_PATH_MAX + 32, "%s", mv->m->path);
    return STEP_DONE;
}

/* A crash leaves the source, or both whole copies (finished on
 * redelivery), never a partial file. */
enum step copy_across(struct move *mv)
{
    mv->tmp = copy_to_tmpfile(mv);
    if (mv->tmp < 0)
        return fileop_fail_errno(mv, errno, 1, "cannot copy");
    /* Attributes and the check of what was written come before the flush,
     * so that the copy reaches the disk whole, with them. */
    enum step s = meta_copy(mv);
    if (s == STEP_ON)
        s = verify_copy(mv);
    if (s != STEP_ON)
        return s;
    if (fileop_fsync(mv->o, mv->tmp) < 0)
        return fileop_fail_errno(mv, errno, 1, "cannot copy");
    struct stat now;
    if (fstat(mv->src, &now) < 0 || !fileop_same_as_msg(&now, mv->m, mv->ident))
        return fileop_fail(mv, FILEOP_PERMANENT, MOVE_REASON_CHANGED,
                           "the source changed while it was being copied");
    const char *target;
    if (name_copy(mv, &target) == STEP_DONE)
        return STEP_DONE;
    if (target != mv->dbase)
        fileop_join(mv->final_path, mv->ddirp, target);
    /* The copy must be on disk under its name before the source goes; and
     * the name must still be the file copied (not one put in its place
     * meanwhile) when it is removed. */
    if (fileop_fsync(mv->o, mv->ddir) < 0)
        return fileop_fail_errno(mv, errno, 0, "cannot make the copy durable");
    if (remove_source(mv->sdir, mv->base, &mv->st, mv->dname) < 0)
        return take_back(mv, target, errno);
    /* The source's removal reaches the disk before the ack, or a crash
     * could bring it back beside its copy. */
    mv->r = FILEOP_MOVED;
    if (fileop_dir_durable(mv, mv->sdir, FILEOP_ALWAYS) < 0)
        return fileop_fail_errno(mv, errno, 0, "cannot make the removal of the source durable");
    return STEP_DONE;
}
