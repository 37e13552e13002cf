/* fileop.c - confined, verified, crash-safe file moves; see fileop.h. */
#include "fileop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define COPY_CHUNK (1 << 20)

/* openat2 beneath dir, following no symlink at any component. */
static int open_beneath(int dir, const char *path, int flags, mode_t mode)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    /* RESOLVE_NO_SYMLINKS covers the last component too, and says ELOOP
     * for it, where O_NOFOLLOW | O_DIRECTORY would say ENOTDIR. */
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, dir, path, &how, sizeof how);
}

/* Classify errno into a result and a reason code. */
static enum fileop_result classify(int e, const char **reason)
{
    switch (e) {
    case ELOOP:
    case EXDEV:
        *reason = "symlink";
        return FILEOP_PERMANENT;
    case EACCES:
    case EPERM:
        *reason = "permission-denied";
        return FILEOP_PERMANENT;
    case ENOENT:
        *reason = "vanished";
        return FILEOP_PERMANENT;
    case ENOTDIR:
        *reason = "not-regular";
        return FILEOP_PERMANENT;
    case ENAMETOOLONG:
        *reason = "path-too-long";
        return FILEOP_PERMANENT;
    case ENOSPC:
    case EDQUOT:
        *reason = "no-space";
        return FILEOP_TRANSIENT;
    default:
        *reason = "io-error";
        return FILEOP_TRANSIENT;
    }
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

/* Open (creating as needed) the directory dir beneath root, one component
 * at a time, never through a symlink. */
static int open_dest_dir(int root, const char *dir)
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
        if (mkdirat(fd, part, 0755) < 0 && errno != EEXIST) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        int next = open_beneath(fd, part, O_RDONLY | O_DIRECTORY, 0);
        int e = errno;
        close(fd);
        errno = e;
        fd = next;
    }
    return fd;
}

static int same_as_msg(const struct stat *st, const struct msg *m, int identity)
{
    return S_ISREG(st->st_mode) && (uint64_t)st->st_size == m->size &&
           st->st_mtim.tv_sec == m->mtime_sec && (uint64_t)st->st_mtim.tv_nsec == m->mtime_nsec &&
           (!identity || (st->st_dev == m->dev && st->st_ino == m->ino));
}

/* Next free name for a conflict: "name.N.ext" before the last extension. */
static void conflict_name(const char *base, unsigned n, char *out, size_t outlen)
{
    const char *dot = strrchr(base, '.');
    if (dot == NULL || dot == base)
        snprintf(out, outlen, "%s.%u", base, n);
    else
        snprintf(out, outlen, "%.*s.%u%s", (int)(dot - base), base, n, dot);
}

/* Do two open files hold the same bytes? 1 yes, 0 no, -1 error. */
static int same_bytes(int a, int b)
{
    static char ba[65536], bb[65536];
    off_t off = 0;
    for (;;) {
        ssize_t x = pread(a, ba, sizeof ba, off), y = pread(b, bb, sizeof bb, off);
        if (x < 0 || y < 0)
            return -1;
        if (x != y || memcmp(ba, bb, (size_t)x) != 0)
            return 0;
        if (x == 0)
            return 1;
        off += x;
    }
}

/* Copy src into a new unnamed file in dstdir with src's owner, mode and
 * times, fsync'ed. Returns the open temporary, or -1 with errno. */
static int copy_to_tmpfile(int src, const struct stat *st, int dstdir, const struct fileop_opts *o)
{
    int tmp = openat(dstdir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, st->st_mode & 07777);
    if (tmp < 0)
        return -1;
    off_t done = 0;
    while (done < st->st_size) {
        ssize_t n = copy_file_range(src, NULL, tmp, NULL, COPY_CHUNK, 0);
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS)) {
            static char buf[COPY_CHUNK];
            n = read(src, buf, sizeof buf);
            if (n > 0 && write(tmp, buf, (size_t)n) != n)
                n = -1;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        if (n == 0)
            break;
        done += n;
        if (o->tick != NULL)
            o->tick(o->tick_arg);
    }
    if (geteuid() == 0 && fchown(tmp, st->st_uid, st->st_gid) < 0)
        goto fail;
    struct timespec times[2] = {st->st_atim, st->st_mtim};
    if (fchmod(tmp, st->st_mode & 07777) < 0 || futimens(tmp, times) < 0 || fsync(tmp) < 0)
        goto fail;
    return tmp;
fail : {
    int e = errno;
    close(tmp);
    errno = e;
    return -1;
}
}

/* Give the unnamed file tmp the name name in dir. */
static int link_tmpfile(int tmp, int dir, const char *name)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", tmp);
    return linkat(AT_FDCWD, proc, dir, name, AT_SYMLINK_FOLLOW);
}

enum fileop_result fileop_move(int srcroot, int dstroot, const struct msg *m,
                               const struct fileop_opts *o, char *final_path, const char **reason,
                               char *err, size_t errlen)
{
    char dir[MSG_PATH_MAX + 1], name[NAME_MAX + 32];
    const char *base = split(m->path, dir, sizeof dir);
    enum fileop_result r;
    int sdir = -1, ddir = -1, src = -1;
    struct stat st, dst;

    snprintf(final_path, MSG_PATH_MAX + 32, "%s", m->path);
    if (base[0] == '\0' || strcmp(base, ".") == 0) {
        *reason = "not-regular";
        snprintf(err, errlen, "the path names a directory");
        return FILEOP_PERMANENT;
    }
    sdir = dir[0] ? open_beneath(srcroot, dir, O_RDONLY | O_DIRECTORY, 0)
                  : fcntl(srcroot, F_DUPFD_CLOEXEC, 0);
    if (sdir < 0 && errno != ENOENT) {
        r = classify(errno, reason);
        snprintf(err, errlen, "cannot open the source directory: %s", strerror(errno));
        return r;
    }
    int have_src = sdir >= 0 && fstatat(sdir, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (have_src && !S_ISREG(st.st_mode)) {
        *reason = S_ISLNK(st.st_mode) ? "symlink" : "not-regular";
        snprintf(err, errlen, "the source is no longer a regular file");
        r = FILEOP_PERMANENT;
        goto out;
    }
    if (have_src && !same_as_msg(&st, m, 1)) {
        *reason = "changed";
        snprintf(err, errlen, "the source changed since it was scanned");
        r = FILEOP_PERMANENT;
        goto out;
    }
    ddir = open_dest_dir(dstroot, dir);
    if (ddir < 0) {
        r = classify(errno, reason);
        snprintf(err, errlen, "cannot create the destination directory: %s", strerror(errno));
        goto out;
    }
    if (!have_src) {
        /* Gone from the source: done before (a redelivery), or vanished. */
        if (fstatat(ddir, base, &dst, AT_SYMLINK_NOFOLLOW) == 0 && same_as_msg(&dst, m, 0)) {
            r = FILEOP_DUPLICATE;
            goto out;
        }
        *reason = "vanished";
        snprintf(err, errlen, "the source is gone and the destination does not hold it");
        r = FILEOP_PERMANENT;
        goto out;
    }

    /* Same filesystem: one atomic rename that never replaces. */
    if (renameat2(sdir, base, ddir, base, RENAME_NOREPLACE) == 0) {
        r = FILEOP_MOVED;
        goto durable;
    }
    int e = errno;
    if (e != EEXIST && e != EXDEV) {
        r = classify(e, reason);
        snprintf(err, errlen, "cannot rename: %s", strerror(e));
        goto out;
    }
    src = openat(sdir, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0 || fstat(src, &st) < 0 || !same_as_msg(&st, m, 1)) {
        r = src < 0 ? classify(errno, reason) : FILEOP_PERMANENT;
        if (src >= 0)
            *reason = "changed";
        snprintf(err, errlen, "cannot open the source: %s", strerror(errno));
        goto out;
    }
    if (e == EEXIST) {
        /* Same bytes already there (a copy that crashed before the source
         * was removed): finish that move. */
        int d = openat(ddir, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (d >= 0 && fstat(d, &dst) == 0 && same_as_msg(&dst, m, 0) && same_bytes(src, d) == 1) {
            close(d);
            if (unlinkat(sdir, base, 0) < 0) {
                r = classify(errno, reason);
                snprintf(err, errlen, "cannot remove the source: %s", strerror(errno));
                goto out;
            }
            r = FILEOP_DUPLICATE;
            goto durable;
        }
        if (d >= 0)
            close(d);
        if (o->conflict == FILEOP_SKIP) {
            r = FILEOP_SKIPPED;
            goto out;
        }
        if (o->conflict == FILEOP_FAIL) {
            *reason = "exists";
            snprintf(err, errlen, "a different file exists at the destination");
            r = FILEOP_PERMANENT;
            goto out;
        }
        if (o->conflict == FILEOP_OVERWRITE) {
            if (renameat(sdir, base, ddir, base) == 0) {
                r = FILEOP_MOVED;
                goto durable;
            }
            e = errno;
            if (e != EXDEV) {
                r = classify(e, reason);
                snprintf(err, errlen, "cannot replace: %s", strerror(e));
                goto out;
            }
        } else {
            /* rename: the first free "name.N.ext" */
            for (unsigned n = 1;; n++) {
                conflict_name(base, n, name, sizeof name);
                if (renameat2(sdir, base, ddir, name, RENAME_NOREPLACE) == 0) {
                    snprintf(final_path, MSG_PATH_MAX + 32, "%s%s%s", dir, dir[0] ? "/" : "", name);
                    r = FILEOP_MOVED;
                    goto durable;
                }
                if (errno == EXDEV) {
                    e = EXDEV;
                    break;
                }
                if (errno != EEXIST || n > 100000) {
                    r = classify(errno, reason);
                    snprintf(err, errlen, "cannot rename: %s", strerror(errno));
                    goto out;
                }
            }
        }
    }

    /* Cross-device: copy into an unnamed file, make it durable, give it its
     * name, then remove the source. A crash leaves the source, or both
     * whole copies (finished on redelivery), never a partial file. */
    {
        const char *target = base;
        int tmp = copy_to_tmpfile(src, &st, ddir, o);
        if (tmp < 0) {
            r = classify(errno, reason);
            snprintf(err, errlen, "cannot copy: %s", strerror(errno));
            goto out;
        }
        for (unsigned n = 0;; n++) {
            if (n > 0) {
                conflict_name(base, n, name, sizeof name);
                target = name;
            }
            if (o->conflict == FILEOP_OVERWRITE && n == 0 &&
                fstatat(ddir, base, &dst, AT_SYMLINK_NOFOLLOW) == 0) {
                /* Link under a temporary name, then rename over the old file. */
                char tname[NAME_MAX + 32];
                snprintf(tname, sizeof tname, ".scanmove-%ld.tmp", (long)getpid());
                unlinkat(ddir, tname, 0);
                if (link_tmpfile(tmp, ddir, tname) == 0 && renameat(ddir, tname, ddir, base) == 0)
                    break;
                e = errno;
                unlinkat(ddir, tname, 0);
                close(tmp);
                r = classify(e, reason);
                snprintf(err, errlen, "cannot replace: %s", strerror(e));
                goto out;
            }
            if (link_tmpfile(tmp, ddir, target) == 0)
                break;
            if (errno != EEXIST || o->conflict != FILEOP_RENAME || n > 100000) {
                e = errno;
                close(tmp);
                if (e == EEXIST) {
                    *reason = "exists";
                    r = FILEOP_PERMANENT;
                } else {
                    r = classify(e, reason);
                }
                snprintf(err, errlen, "cannot link the copy: %s", strerror(e));
                goto out;
            }
        }
        close(tmp);
        if (target != base)
            snprintf(final_path, MSG_PATH_MAX + 32, "%s%s%s", dir, dir[0] ? "/" : "", target);
        if (fsync(ddir) < 0 || unlinkat(sdir, base, 0) < 0) {
            r = classify(errno, reason);
            snprintf(err, errlen, "cannot finish the copy: %s", strerror(errno));
            goto out;
        }
        r = FILEOP_MOVED;
        if (o->fsync)
            fsync(sdir);
        goto out;
    }
durable:
    if (o->fsync && (fsync(ddir) < 0 || fsync(sdir) < 0)) {
        r = classify(errno, reason);
        snprintf(err, errlen, "cannot make the rename durable: %s", strerror(errno));
    }
out:
    if (src >= 0)
        close(src);
    if (sdir >= 0)
        close(sdir);
    if (ddir >= 0)
        close(ddir);
    return r;
}
