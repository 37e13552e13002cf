/* fileop.c - confined, verified, crash-safe file moves; see fileop.h. */
#include "fileop.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
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

static int fsync_ticking(int fd, const struct fileop_opts *o);

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
        int next = open_beneath(fd, part, O_RDONLY | O_DIRECTORY, 0);
        if (next < 0 && errno == ENOENT && create) {
            /* A new directory's entry must reach the disk before any file
             * moved into it is acknowledged: flush its parent now (rare:
             * once per directory). */
            if ((mkdirat(fd, part, 0755) < 0 && errno != EEXIST) || fsync_ticking(fd, o) < 0) {
                int e = errno;
                close(fd);
                errno = e;
                return -1;
            }
            next = open_beneath(fd, part, O_RDONLY | O_DIRECTORY, 0);
        }
        int e = errno;
        close(fd);
        errno = e;
        fd = next;
    }
    return fd;
}

/* How much of a file's identity to compare with the message. */
enum same { SAME_CONTENT, SAME_INODE, SAME_DEVICE_INODE };

/* Is st the file m describes: a regular file of its size and mtime, and,
 * as asked, its inode (and device)? */
static int same_as_msg(const struct stat *st, const struct msg *m, enum same how)
{
    return S_ISREG(st->st_mode) && (uint64_t)st->st_size == m->size &&
           st->st_mtim.tv_sec == m->mtime_sec && (uint64_t)st->st_mtim.tv_nsec == m->mtime_nsec &&
           (how == SAME_CONTENT || st->st_ino == m->ino) &&
           (how != SAME_DEVICE_INODE || st->st_dev == m->dev);
}

/*
 * Next free name for a conflict: "name.N.ext" before the last extension.
 * A name too long for ".N" loses the end of its stem (never half of a UTF-8
 * character), keeping the extension, so that the result is at most NAME_MAX
 * bytes: a 255-byte name still gets its conflict names. An "extension" that
 * leaves no room is treated as part of the stem.
 */
static void conflict_name(const char *base, unsigned n, char *out, size_t outlen)
{
    char num[16];
    int numlen = snprintf(num, sizeof num, ".%u", n);
    size_t len = strlen(base);
    const char *dot = strrchr(base, '.');
    size_t stem = dot == NULL || dot == base ? len : (size_t)(dot - base);
    size_t ext = len - stem;
    if (ext + (size_t)numlen + 1 > NAME_MAX) { /* no room to keep it */
        stem = len;
        ext = 0;
    }
    if (stem + ext + (size_t)numlen > NAME_MAX) {
        stem = NAME_MAX - ext - (size_t)numlen;
        /* Cut before a UTF-8 lead byte, not inside its character. */
        while (stem > 1 && ((unsigned char)base[stem] & 0xC0) == 0x80)
            stem--;
    }
    snprintf(out, outlen, "%.*s%s%.*s", (int)stem, base, num, (int)ext, base + len - ext);
}

/*
 * What modification time a copy of m gets in dir. Filesystems store times
 * at their own granularity (ext3 and small-inode ext4: 1 s, FAT: 2 s,
 * exFAT: 10 ms, NTFS over SMB: 100 ns), and futimens() truncates silently,
 * so a finished copy is recognised by the time the destination actually
 * stores for m's mtime: set on a probe file there (unnamed where the
 * filesystem has O_TMPFILE, else pname, removed at once) and read back.
 */
struct stored_time {
    int state; /* 0 not probed yet, 1 known (mtime), -1 the probe failed */
    struct timespec mtime;
};

static void probe_stored_mtime(int dir, const struct msg *m, const char *pname,
                               struct stored_time *t)
{
    struct timespec times[2] = {{0, UTIME_OMIT}, {(time_t)m->mtime_sec, (long)m->mtime_nsec}};
    struct stat st;
    int named = 0;
    t->state = -1;
    int fd = openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        unlinkat(dir, pname, 0); /* left by a crash */
        fd = openat(dir, pname, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
        named = fd >= 0;
    }
    if (fd < 0)
        return;
    if (futimens(fd, times) == 0 && fstat(fd, &st) == 0) {
        t->mtime = st.st_mtim;
        t->state = 1;
    }
    close(fd);
    if (named)
        unlinkat(dir, pname, 0);
}

/* Is st, in dir, a copy of m: a regular file of its size, and its mtime
 * as dir stores it (probed once per *t, only when not equal outright)? */
static int copy_of_msg(int dir, const struct stat *st, const struct msg *m, const char *pname,
                       struct stored_time *t)
{
    if (!S_ISREG(st->st_mode) || (uint64_t)st->st_size != m->size)
        return 0;
    if (same_as_msg(st, m, SAME_CONTENT))
        return 1;
    if (t->state == 0)
        probe_stored_mtime(dir, m, pname, t);
    return t->state == 1 && st->st_mtim.tv_sec == t->mtime.tv_sec &&
           st->st_mtim.tv_nsec == t->mtime.tv_nsec;
}

/* Do two open files hold the same bytes? 1 yes, 0 no, -1 error. Reading
 * a big file on a slow disk takes long: o->tick runs after every block
 * (it only looks at the clock unless a heartbeat is due). */
static int same_bytes(int a, int b, const struct fileop_opts *o)
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
        if (o->tick != NULL)
            o->tick(o->tick_arg);
    }
}

/* ---- fsync with heartbeats ---- */

/*
 * On a slow disk the flush of a big copy (or of a directory, behind a busy
 * journal) can outlast the broker's heartbeat timeout. A watchdog thread,
 * started once, calls the tick of an fsync that has lasted 100 ms, every
 * 100 ms, while the main thread is blocked in it: the main thread takes
 * the lock again before it goes on, so the two never use the broker
 * connection at once. An fsync costs two uncontended locks more, not a
 * thread of its own.
 */
static struct {
    pthread_mutex_t mu;
    int armed; /* the main thread is in fsync since ... */
    struct timespec since;
    const struct fileop_opts *o; /* ... with these options */
    int running;                 /* the watchdog has started */
} wd = {.mu = PTHREAD_MUTEX_INITIALIZER};

static double since_s(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void *watchdog(void *arg)
{
    (void)arg;
    const struct timespec pause = {0, 100 * 1000 * 1000};
    for (;;) {
        nanosleep(&pause, NULL);
        pthread_mutex_lock(&wd.mu);
        if (wd.armed && since_s(&wd.since) >= 0.1)
            wd.o->tick(wd.o->tick_arg);
        pthread_mutex_unlock(&wd.mu);
    }
    return NULL;
}

static void start_watchdog(void)
{
    pthread_t t;
    pthread_attr_t a;
    if (pthread_attr_init(&a) != 0)
        return;
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    /* Signals belong to the main thread (SIGINT, SIGTERM set its flag). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    wd.running = pthread_create(&t, &a, watchdog, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
}

/* fsync(fd), with o->tick called every 100 ms while it lasts (when there
 * is a tick and the watchdog could be started). */
static int fsync_ticking(int fd, const struct fileop_opts *o)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (o->tick == NULL)
        return fsync(fd);
    pthread_once(&once, start_watchdog);
    pthread_mutex_lock(&wd.mu);
    wd.armed = wd.running;
    wd.o = o;
    clock_gettime(CLOCK_MONOTONIC, &wd.since);
    pthread_mutex_unlock(&wd.mu);
    int rc = fsync(fd), e = errno;
    pthread_mutex_lock(&wd.mu);
    wd.armed = 0;
    pthread_mutex_unlock(&wd.mu);
    errno = e;
    return rc;
}

/*
 * Copy src into a new file in dstdir with src's owner, mode and times,
 * fsync'ed: an unnamed one (O_TMPFILE), or, where the filesystem has none
 * (NFS, CIFS, ...) or o->named_temp asks, one called tname (*named = 1),
 * which the caller renames into place or removes. Returns the open
 * temporary, or -1 with errno (and no file left behind).
 */
static int copy_to_tmpfile(int src, const struct stat *st, int dstdir, const char *tname,
                           int *named, const struct fileop_opts *o)
{
    int tmp = -1;
    *named = 0;
    if (!o->named_temp)
        tmp = openat(dstdir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, st->st_mode & 07777);
    if (tmp < 0 && (o->named_temp || errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        tmp = openat(dstdir, tname, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                     st->st_mode & 0700);
        *named = tmp >= 0;
    }
    if (tmp < 0)
        return -1;
    off_t done = 0;
    while (done < st->st_size) {
        ssize_t n = copy_file_range(src, NULL, tmp, NULL, COPY_CHUNK, 0);
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS)) {
            static char buf[COPY_CHUNK];
            n = read(src, buf, sizeof buf);
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
    if (fchmod(tmp, st->st_mode & 07777) < 0 || futimens(tmp, times) < 0 ||
        fsync_ticking(tmp, o) < 0)
        goto fail;
    return tmp;
fail : {
    int e = errno;
    close(tmp);
    if (*named)
        unlinkat(dstdir, tname, 0);
    *named = 0;
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

/* ---- group commit ---- */

void fileop_sync_init(struct fileop_sync *g)
{
    memset(g, 0, sizeof *g);
}

int fileop_sync_flush(struct fileop_sync *g)
{
    int e = g->error;
    for (unsigned i = 0; i < g->n; i++) {
        if (fsync(g->fd[i]) < 0 && e == 0)
            e = errno;
        close(g->fd[i]);
    }
    g->n = 0;
    g->error = 0;
    if (e != 0) {
        errno = e;
        return -1;
    }
    return 0;
}

int fileop_sync_add(struct fileop_sync *g, int dir)
{
    struct stat st;
    if (fstat(dir, &st) < 0)
        return -1;
    for (unsigned i = 0; i < g->n; i++)
        if (g->dev[i] == (unsigned long long)st.st_dev &&
            g->ino[i] == (unsigned long long)st.st_ino)
            return 0;
    if (g->n == FILEOP_SYNC_MAX && fileop_sync_flush(g) < 0)
        g->error = errno; /* reported by the next flush */
    int fd = fcntl(dir, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    g->fd[g->n] = fd;
    g->dev[g->n] = (unsigned long long)st.st_dev;
    g->ino[g->n] = (unsigned long long)st.st_ino;
    g->n++;
    return 0;
}

/* With --fsync, make dir's entries durable before the ack: in the group
 * when there is one, else now. */
static int make_durable(const struct fileop_opts *o, int dir)
{
    if (o->sync == NULL || fileop_sync_add(o->sync, dir) == 0)
        return 0;
    return fsync_ticking(dir, o);
}

/* The same, with or without --fsync (a copy's source removal): in the group
 * when there is one, else now. */
static int must_be_durable(const struct fileop_opts *o, int dir)
{
    if (o->sync != NULL && fileop_sync_add(o->sync, dir) == 0)
        return 0;
    return fsync_ticking(dir, o);
}

/* ---- the move ---- */

/*
 * Is the file of m already at the destination, under its own name or a
 * conflict name (a redelivery of a finished move, or a second message for
 * the same file from overlapping scans)? On the same file system a rename
 * keeps the inode, so the identity must match; a copy has a new inode, so
 * size and mtime must.
 */
static int already_done(int srcroot, int ddir, const char *base, const struct msg *m,
                        const char *pname)
{
    struct stat sr, dd;
    struct stored_time t = {0, {0, 0}};
    enum same how = SAME_CONTENT;
    if (fstat(srcroot, &sr) == 0 && fstat(ddir, &dd) == 0 && sr.st_dev == dd.st_dev)
        how = SAME_INODE;
    char name[NAME_MAX + 32];
    struct stat st;
    for (unsigned n = 0; n <= 1000; n++) {
        const char *nm = base;
        if (n > 0) {
            conflict_name(base, n, name, sizeof name);
            nm = name;
        }
        if (fstatat(ddir, nm, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (n == 0)
                continue;
            return 0; /* conflict names are taken in order: the first gap ends them */
        }
        if (how == SAME_CONTENT ? copy_of_msg(ddir, &st, m, pname, &t) : same_as_msg(&st, m, how))
            return 1;
    }
    return 0;
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

/*
 * Does dir hold a finished copy of the open source src, under base or,
 * with conflict names, base.N.ext (a copy whose source a crash kept)? On
 * yes, the copy is flushed to disk, its name put in out, and 1 returned.
 */
static int find_copy(int dir, const char *base, const struct msg *m, int src,
                     const struct fileop_opts *o, const char *pname, char *out, size_t outlen)
{
    struct stat st;
    struct stored_time t = {0, {0, 0}};
    int conflict_names = o->conflict == FILEOP_RENAME;
    for (unsigned n = 0; n <= (conflict_names ? 1000u : 0u); n++) {
        size_t len = strlen(base);
        if (len >= outlen)
            return 0;
        if (n == 0)
            memcpy(out, base, len + 1);
        else
            conflict_name(base, n, out, outlen);
        int d = openat(dir, out, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (d < 0) {
            if (errno == ENOENT && n > 0)
                return 0; /* conflict names are taken in order */
            continue;
        }
        int same = fstat(d, &st) == 0 && copy_of_msg(dir, &st, m, pname, &t) &&
                   same_bytes(src, d, o) == 1 && fsync_ticking(d, o) == 0;
        close(d);
        if (same)
            return 1;
    }
    return 0;
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

/* Is base in dir still the inode st (the source, after a failed rename)? */
static int still_there(int dir, const char *base, const struct stat *st)
{
    struct stat now;
    return fstatat(dir, base, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == st->st_dev &&
           now.st_ino == st->st_ino;
}

/*
 * Classify errno e of an operation in a destination directory. ENOENT
 * there means the directory was removed under the mover (DEST deleted and
 * made again, a cleanup job deleting empty directories): the file is still
 * at its source, and a later try makes the directory again.
 */
static enum fileop_result classify_dest(int e, const char **reason)
{
    if (e == ENOENT) {
        *reason = "dest-vanished";
        return FILEOP_TRANSIENT;
    }
    return classify(e, reason);
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

static void join_path(char *out, const char *dir, const char *name)
{
    snprintf(out, MSG_PATH_MAX + 32, "%s%s%s", dir, dir[0] ? "/" : "", name);
}

enum fileop_result fileop_move(int srcroot, int dstroot, const struct msg *m,
                               const struct fileop_opts *o, char *final_path, const char **reason,
                               char *err, size_t errlen)
{
    char dir[MSG_PATH_MAX + 1], name[NAME_MAX + 32];
    const char *base = split(m->path, dir, sizeof dir);
    enum fileop_result r;
    int sdir = -1, ddir = -1, src = -1, tmp = -1, named = 0, e;
    const char *placed = NULL; /* the name a rename gave the file in ddir */
    /* This message's temporary name in the destination directory: only a
     * crash between its creation and its rename can leave it behind, and
     * the redelivery removes it, holding the source's lock. */
    char tname[MSG_ID_LEN + 32], dname[MSG_ID_LEN + 32], pname[MSG_ID_LEN + 32];
    snprintf(tname, sizeof tname, ".scanmove-%s.tmp", m->id);
    snprintf(dname, sizeof dname, ".scanmove-%s.del", m->id);
    snprintf(pname, sizeof pname, ".scanmove-%s.probe", m->id);
    struct stat st, dst, now;
    /* Device numbers are local to a host (an NFS mount gets its own on
     * each): from another host's scan, the inode is the identity. */
    enum same ident = o->other_host ? SAME_INODE : SAME_DEVICE_INODE;

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
    if (have_src && !same_as_msg(&st, m, ident)) {
        *reason = "changed";
        snprintf(err, errlen, "the source changed since it was scanned");
        r = FILEOP_PERMANENT;
        goto out;
    }
    /* A source that is gone creates nothing at DEST: its directory is only
     * looked into, for a finished move. */
    ddir = have_src ? open_dest_dir_retry(dstroot, dir, o) : open_dest_dir(dstroot, dir, 0, o);
    if (ddir < 0 && !have_src && errno == ENOENT) {
        *reason = "vanished";
        snprintf(err, errlen, "the source is gone and the destination does not hold it");
        r = FILEOP_PERMANENT;
        goto out;
    }
    if (ddir < 0) {
        r = classify_dest(errno, reason);
        snprintf(err, errlen, "cannot create the destination directory: %s", strerror(errno));
        goto out;
    }
    if (!have_src)
        goto gone;

    /* Same file system: one atomic rename that never replaces. ENOENT
     * says the source is gone (another mover took it a moment ago), or
     * that the destination directory was removed since it was opened:
     * then open (make) it again and retry. */
    int src_there = 1;
    for (int tries = 0;; tries++) {
        if (renameat2(sdir, base, ddir, base, RENAME_NOREPLACE) == 0) {
            placed = base;
            goto moved;
        }
        e = errno;
        if (e != ENOENT || !(src_there = still_there(sdir, base, &st)) || tries == 3)
            break;
        close(ddir);
        ddir = open_dest_dir_retry(dstroot, dir, o);
        if (ddir < 0) {
            r = classify_dest(errno, reason);
            snprintf(err, errlen, "cannot create the destination directory: %s", strerror(errno));
            goto out;
        }
    }
    if (e == ENOENT && !src_there)
        goto gone;
    if (e == ENOENT) {
        r = classify_dest(e, reason);
        snprintf(err, errlen, "the destination directory was removed while moving into it");
        goto out;
    }
    if (e != EEXIST && e != EXDEV) {
        r = classify(e, reason);
        snprintf(err, errlen, "cannot rename: %s", strerror(e));
        goto out;
    }

    /* The slow paths: hold the source's lock, so that two movers never
     * work on one file at once, and check it again once held. */
    /* O_NONBLOCK: a FIFO put in its place must not hang the mover (the
     * identity check below refuses it; regular files ignore the flag). */
    src = openat(sdir, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (src < 0 && errno == ENOENT)
        goto gone;
    if (src < 0) {
        r = classify(errno, reason);
        snprintf(err, errlen, "cannot open the source: %s", strerror(errno));
        goto out;
    }
    int lk = lock_source(src, o, m->path);
    if (lk != 0) {
        *reason = lk > 0 ? "busy" : "io-error";
        snprintf(err, errlen, "%s",
                 lk > 0 ? "stopped while another mover held the file" : "cannot lock the source");
        r = FILEOP_TRANSIENT;
        goto out;
    }
    unlinkat(ddir, tname, 0);
    unlinkat(ddir, pname, 0);
    if (fstatat(sdir, base, &now, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            goto gone;
        r = classify(errno, reason);
        snprintf(err, errlen, "cannot check the source: %s", strerror(errno));
        goto out;
    }
    if (fstat(src, &st) < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino ||
        !same_as_msg(&st, m, ident)) {
        *reason = "changed";
        snprintf(err, errlen, "the source changed since it was scanned");
        r = FILEOP_PERMANENT;
        goto out;
    }
    /* Across filesystems rename says EXDEV before it looks at the target:
     * a name taken at DEST is a conflict (or a finished copy) all the same. */
    if (e == EXDEV && fstatat(ddir, base, &dst, AT_SYMLINK_NOFOLLOW) == 0)
        e = EEXIST;
    if (e == EEXIST) {
        /* The same bytes already there, under the name or a conflict name:
         * a copy whose source a crash kept. Make it durable, then finish
         * that move. */
        if (find_copy(ddir, base, m, src, o, pname, name, sizeof name)) {
            join_path(final_path, dir, name);
            if (fsync_ticking(ddir, o) < 0 || (unlinkat(sdir, base, 0) < 0 && errno != ENOENT) ||
                must_be_durable(o, sdir) < 0) {
                r = classify(errno, reason);
                snprintf(err, errlen, "cannot finish an earlier copy: %s", strerror(errno));
                goto out;
            }
            r = FILEOP_DUPLICATE;
            goto out;
        }
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
                placed = base;
                goto moved;
            }
            e = errno;
            if (e == ENOENT && !still_there(sdir, base, &st))
                goto gone;
            if (e != EXDEV) {
                r = classify_dest(e, reason);
                snprintf(err, errlen, "cannot replace: %s", strerror(e));
                goto out;
            }
        } else {
            /* rename: the first free "name.N.ext" */
            for (unsigned n = 1;; n++) {
                conflict_name(base, n, name, sizeof name);
                if (renameat2(sdir, base, ddir, name, RENAME_NOREPLACE) == 0) {
                    join_path(final_path, dir, name);
                    placed = name;
                    goto moved;
                }
                if (errno == EXDEV)
                    break;
                if (errno == ENOENT && !still_there(sdir, base, &st))
                    goto gone;
                if (errno != EEXIST || n > 100000) {
                    r = classify_dest(errno, reason);
                    snprintf(err, errlen, "cannot rename: %s", strerror(errno));
                    goto out;
                }
            }
        }
    }

    /* Cross-device: copy into an unnamed file, make it durable, give it its
     * name, then remove the source. A crash leaves the source, or both
     * whole copies (finished on redelivery), never a partial file. */
    tmp = copy_to_tmpfile(src, &st, ddir, tname, &named, o);
    if (tmp < 0) {
        r = classify_dest(errno, reason);
        snprintf(err, errlen, "cannot copy: %s", strerror(errno));
        goto out;
    }
    if (fstat(src, &now) < 0 || !same_as_msg(&now, m, ident)) {
        *reason = "changed";
        snprintf(err, errlen, "the source changed while it was being copied");
        r = FILEOP_PERMANENT;
        goto out;
    }
    const char *target = base;
    for (unsigned n = 0;; n++) {
        if (n > 0) {
            conflict_name(base, n, name, sizeof name);
            target = name;
        }
        int replace = o->conflict == FILEOP_OVERWRITE && n == 0 &&
                      fstatat(ddir, base, &dst, AT_SYMLINK_NOFOLLOW) == 0;
        if (place_copy(tmp, named, ddir, tname, target, replace) == 0) {
            named = 0;
            break;
        }
        e = errno;
        if (e == EEXIST && o->conflict == FILEOP_RENAME && n <= 100000)
            continue;
        if (e == EEXIST && o->conflict != FILEOP_OVERWRITE) {
            *reason = "exists";
            r = FILEOP_PERMANENT;
        } else {
            r = classify_dest(e, reason);
        }
        snprintf(err, errlen, "cannot %s the copy: %s", replace ? "replace with" : "link",
                 strerror(e));
        goto out;
    }
    if (target != base)
        join_path(final_path, dir, target);
    /* The copy must be on disk under its name before the source goes; and
     * the name must still be the file copied (not one put in its place
     * meanwhile) when it is removed. */
    if (fsync_ticking(ddir, o) < 0) {
        r = classify(errno, reason);
        snprintf(err, errlen, "cannot make the copy durable: %s", strerror(errno));
        goto out;
    }
    if (remove_source(sdir, base, &st, dname) < 0) {
        /* The source stays (read-only directory, sticky bit, ...): take the
         * copy back, so that the file is not in both places, nor copied
         * again under another name by the next try. */
        e = errno;
        struct stat mine, at;
        if (fstat(tmp, &mine) == 0 && fstatat(ddir, target, &at, AT_SYMLINK_NOFOLLOW) == 0 &&
            mine.st_dev == at.st_dev && mine.st_ino == at.st_ino)
            unlinkat(ddir, target, 0);
        r = classify(e, reason);
        snprintf(err, errlen, "cannot remove the source after copying it: %s", strerror(e));
        snprintf(final_path, MSG_PATH_MAX + 32, "%s", m->path);
        goto out;
    }
    /* The source's removal reaches the disk before the ack, or a crash
     * could bring it back beside its copy. */
    r = FILEOP_MOVED;
    if (must_be_durable(o, sdir) < 0) {
        r = classify(errno, reason);
        snprintf(err, errlen, "cannot make the removal of the source durable: %s", strerror(errno));
    }
    goto out;

gone:
    /* Gone from the source: done before (a redelivery), or vanished. A
     * crash in remove_source may have left the source under its private
     * name: once the copy is known done, remove it. */
    if (already_done(srcroot, ddir, base, m, pname)) {
        if (sdir >= 0 && fstatat(sdir, dname, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
            same_as_msg(&now, m, ident))
            unlinkat(sdir, dname, 0);
        r = FILEOP_DUPLICATE;
        goto durable;
    }
    *reason = "vanished";
    snprintf(err, errlen, "the source is gone and the destination does not hold it");
    r = FILEOP_PERMANENT;
    goto out;
moved:
    /* The name was checked, then renamed: if another file took the name in
     * between, that one moved. Put it back; the scanned one is not there. */
    if (fstatat(ddir, placed, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
        (now.st_dev != st.st_dev || now.st_ino != st.st_ino)) {
        *reason = "changed";
        r = FILEOP_PERMANENT;
        if (renameat2(ddir, placed, sdir, base, RENAME_NOREPLACE) == 0)
            snprintf(err, errlen, "the source was replaced while being moved; put back");
        else
            snprintf(err, errlen,
                     "the source was replaced while being moved, and the new file could not "
                     "be put back (%s): it is at the destination",
                     strerror(errno));
        snprintf(final_path, MSG_PATH_MAX + 32, "%s", m->path);
        goto out;
    }
    r = FILEOP_MOVED;
durable:
    if (make_durable(o, ddir) < 0 || (sdir >= 0 && make_durable(o, sdir) < 0)) {
        r = classify(errno, reason);
        snprintf(err, errlen, "cannot make the rename durable: %s", strerror(errno));
    }
out:
    if (tmp >= 0)
        close(tmp);
    if (named) /* a named copy that did not reach its place */
        unlinkat(ddir, tname, 0);
    if (src >= 0)
        close(src);
    if (sdir >= 0)
        close(sdir);
    if (ddir >= 0)
        close(ddir);
    return r;
}
