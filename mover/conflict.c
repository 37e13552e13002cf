/* conflict.c - a name taken at the destination: a finished copy found
 * there, --on-conflict, conflict names, and recognising a finished move. */
#include "fileop_priv.h"

#include "mark.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Next free name for a conflict: "name.N.ext" before the last extension.
 * A name too long for ".N" loses the end of its stem (never half of a UTF-8
 * character), keeping the extension, so that the result is at most NAME_MAX
 * bytes: a 255-byte name still gets its conflict names. An "extension" that
 * leaves no room is treated as part of the stem.
 */
void conflict_name(const char *base, unsigned n, char *out, size_t outlen)
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
    if (fileop_same_as_msg(st, m, SAME_CONTENT))
        return 1;
    if (t->state == 0)
        probe_stored_mtime(dir, m, pname, t);
    return t->state == 1 && st->st_mtim.tv_sec == t->mtime.tv_sec &&
           st->st_mtim.tv_nsec == t->mtime.tv_nsec;
}

/* Do two open files hold the same bytes? 1 yes, 0 no, -1 error. Reading
 * a big file on a slow disk takes long: o->tick runs after every block
 * (it only looks at the clock unless a heartbeat is due). */
static int same_bytes(struct move *mv, int a, int b)
{
    enum { BLOCK = 65536 };
    _Static_assert(2 * BLOCK <= FILEOP_BUF_SIZE, "two blocks fit the buffer");
    char *ba = fileop_buf(mv), *bb = ba + BLOCK;
    if (ba == NULL)
        return -1;
    off_t off = 0;
    for (;;) {
        ssize_t x = pread(a, ba, BLOCK, off), y = pread(b, bb, BLOCK, off);
        if (x < 0 || y < 0)
            return -1;
        if (x != y || memcmp(ba, bb, (size_t)x) != 0)
            return 0;
        if (x == 0)
            return 1;
        off += x;
        if (mv->o->tick != NULL)
            mv->o->tick(mv->o->tick_arg);
    }
}

/*
 * Does ddir hold a finished copy of the open source, under base or, with
 * conflict names, base.N.ext (a copy whose source a crash kept)? On yes,
 * the copy is flushed to disk, its name put in mv->name, and 1 returned.
 */
static int find_copy(struct move *mv)
{
    struct stat st;
    struct stored_time t = {0, {0, 0}};
    char *out = mv->name;
    size_t outlen = sizeof mv->name;
    int conflict_names = mv->o->conflict == FILEOP_RENAME;
    for (unsigned n = 0; n <= (conflict_names ? 1000u : 0u); n++) {
        size_t len = strlen(mv->dbase);
        if (len >= outlen)
            return 0;
        if (n == 0)
            memcpy(out, mv->dbase, len + 1);
        else
            conflict_name(mv->dbase, n, out, outlen);
        int d = openat(mv->ddir, out, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (d < 0) {
            if (errno == ENOENT && n > 0)
                return 0; /* conflict names are taken in order */
            continue;
        }
        int same = fstat(d, &st) == 0 && copy_of_msg(mv->ddir, &st, mv->m, mv->pname, &t) &&
                   same_bytes(mv, mv->src, d) == 1 && fileop_fsync(mv->o, d) == 0;
        close(d);
        if (same)
            return 1;
    }
    return 0;
}

/* --on-conflict overwrite: replace the file there atomically (across file
 * systems, the copy step does). */
static enum step overwrite(struct move *mv)
{
    if (renameat(mv->sdir, mv->base, mv->ddir, mv->dbase) == 0) {
        mv->placed = mv->dbase;
        return STEP_PLACED;
    }
    int e = errno;
    if (e == ENOENT && !fileop_still_there(mv->sdir, mv->base, &mv->st))
        return STEP_GONE;
    if (e != EXDEV)
        return fileop_fail_errno(mv, e, 1, "cannot replace");
    return STEP_ON;
}

/* --on-conflict rename: the first free "name.N.ext" (across file systems,
 * the copy step finds it). */
static enum step rename_aside(struct move *mv)
{
    for (unsigned n = 1;; n++) {
        conflict_name(mv->dbase, n, mv->name, sizeof mv->name);
        if (fileop_rename_noreplace(mv->sdir, mv->base, mv->ddir, mv->name) == 0) {
            fileop_join(mv->final_path, mv->ddirp, mv->name);
            mv->placed = mv->name;
            return STEP_PLACED;
        }
        if (errno == EXDEV)
            return STEP_ON;
        if (errno == ENOENT && !fileop_still_there(mv->sdir, mv->base, &mv->st))
            return STEP_GONE;
        if (errno != EEXIST || n > 100000)
            return fileop_fail_errno(mv, errno, 1, "cannot rename");
    }
}

enum step conflict_resolve(struct move *mv)
{
    if (mv->e != EEXIST)
        return STEP_ON;
    /* The same bytes already there, under the name or a conflict name: a
     * copy whose source a crash kept. Make it durable, then finish that
     * move. */
    if (find_copy(mv)) {
        fileop_join(mv->final_path, mv->ddirp, mv->name);
        if (fileop_fsync(mv->o, mv->ddir) < 0 ||
            (unlinkat(mv->sdir, mv->base, 0) < 0 && errno != ENOENT) ||
            fileop_dir_durable(mv, mv->sdir, FILEOP_ALWAYS) < 0)
            return fileop_fail_errno(mv, errno, 0, "cannot finish an earlier copy");
        mv->r = FILEOP_DUPLICATE;
        return STEP_DONE;
    }
    if (mv->o->conflict == FILEOP_SKIP) {
        /* Left in place with its message acknowledged: no message waits
         * for it, so scan's mark goes, and the next scan tries again (the
         * name at DEST may be free by then). */
        mark_remove_at(mv->sdir, mv->base);
        mv->r = FILEOP_SKIPPED;
        return STEP_DONE;
    }
    if (mv->o->conflict == FILEOP_FAIL)
        return fileop_fail(mv, FILEOP_PERMANENT, MOVE_REASON_EXISTS,
                           "a different file exists at the destination");
    if (mv->o->conflict == FILEOP_OVERWRITE)
        return overwrite(mv);
    return rename_aside(mv);
}

/*
 * Is the file of m already at the destination, under its own name or a
 * conflict name (a redelivery of a finished move, or a second message for
 * the same file from overlapping scans)? On the same file system a rename
 * keeps the inode, so the identity must match; a copy has a new inode, so
 * size and mtime must.
 */
int conflict_already_done(struct move *mv)
{
    struct stat sr, dd;
    struct stored_time t = {0, {0, 0}};
    enum same how = SAME_CONTENT;
    if (fstat(mv->srcroot, &sr) == 0 && fstat(mv->ddir, &dd) == 0 && sr.st_dev == dd.st_dev)
        how = SAME_INODE;
    struct stat st;
    for (unsigned n = 0; n <= 1000; n++) {
        const char *nm = mv->dbase;
        if (n > 0) {
            conflict_name(mv->dbase, n, mv->name, sizeof mv->name);
            nm = mv->name;
        }
        if (fstatat(mv->ddir, nm, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (n == 0)
                continue;
            return 0; /* conflict names are taken in order: the first gap ends them */
        }
        if (how == SAME_CONTENT ? copy_of_msg(mv->ddir, &st, mv->m, mv->pname, &t)
                                : fileop_same_as_msg(&st, mv->m, how)) {
            mv->placed = nm;
            return 1;
        }
    }
    return 0;
}
