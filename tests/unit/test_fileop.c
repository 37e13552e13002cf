/* test_fileop.c - unit tests of the mover's file operations on temporary trees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "durable.h"
#include "fileop.h"
#include "reason.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Each test gets a fresh tree under mkdtemp: src/ (the --from root), dst/
 * (the --to root) and outside/ (beyond both, which must never change).
 * Run as "test_fileop exdev", dst/ is a tmpfs of its own (mounted in a
 * private mount namespace), so that every move is a copy across devices.
 */
struct tree {
    char base[64], src[96], dst[96], out[96];
    int srcfd, dstfd, mounted;
};

static int exdev_mode;

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct tree *t = calloc(1, sizeof *t);
    assert_non_null(t);
    snprintf(t->base, sizeof t->base, "/tmp/test_fileop.XXXXXX");
    assert_non_null(mkdtemp(t->base));
    snprintf(t->src, sizeof t->src, "%s/src", t->base);
    snprintf(t->dst, sizeof t->dst, "%s/dst", t->base);
    snprintf(t->out, sizeof t->out, "%s/outside", t->base);
    assert_int_equal(mkdir(t->src, 0755), 0);
    assert_int_equal(mkdir(t->dst, 0755), 0);
    assert_int_equal(mkdir(t->out, 0755), 0);
    if (exdev_mode) {
        assert_int_equal(mount("tmpfs", t->dst, "tmpfs", 0, "size=16m,mode=0755"), 0);
        t->mounted = 1;
    }
    t->srcfd = open(t->src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    t->dstfd = open(t->dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(t->srcfd >= 0 && t->dstfd >= 0);
    struct stat s, d;
    assert_int_equal(fstat(t->srcfd, &s), 0);
    assert_int_equal(fstat(t->dstfd, &d), 0);
    assert_int_equal(s.st_dev != d.st_dev, exdev_mode); /* a copy, or a rename */
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tree *t = *state;
    close(t->srcfd);
    close(t->dstfd);
    if (t->mounted)
        umount2(t->dst, MNT_DETACH);
    nftw(t->base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(t);
    return 0;
}

/* Write content to root/rel, making its directories. */
static void put(const char *root, const char *rel, const char *content)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    assert_int_equal(fclose(f), 0);
}

/* The content of root/rel, or NULL when there is no such file. */
static const char *get(const char *root, const char *rel)
{
    static char buf[4096];
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int there(const char *root, const char *rel)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return lstat(path, &st) == 0;
}

/* How many entries dir (a path) holds, and whether any is one of the
 * mover's private names (.scanmove-*). */
static int entries(const char *dir, int *private_names)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (strncmp(e->d_name, ".scanmove-", 10) == 0)
            *private_names = 1;
    }
    closedir(d);
    return n;
}

/* No .scanmove-* name left in dir (a path). */
static void assert_clean(const char *dir)
{
    int priv = 0;
    entries(dir, &priv);
    assert_int_equal(priv, 0);
}

/* The message scan would send for src/rel as it is now. */
static void scanned(const struct tree *t, const char *rel, struct msg *m)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", t->src, rel);
    assert_int_equal(lstat(path, &st), 0);
    memset(m, 0, sizeof *m);
    m->v = 1;
    snprintf(m->root, sizeof m->root, "%s", t->src);
    m->root_len = strlen(m->root);
    snprintf(m->path, sizeof m->path, "%s", rel);
    m->path_len = strlen(m->path);
    m->size = (uint64_t)st.st_size;
    m->mtime_sec = st.st_mtim.tv_sec;
    m->mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
    m->dev = st.st_dev;
    m->ino = st.st_ino;
    m->mode = st.st_mode;
    msg_make_id(m);
}

struct result {
    enum fileop_result r;
    enum move_reason reason;
    char final_path[MSG_PATH_MAX + 32];
    char err[512];
};

static struct result move_with(const struct tree *t, const struct msg *m,
                               const struct fileop_opts *o)
{
    struct result res;
    res.reason = MOVE_REASON__COUNT;
    res.r =
        fileop_move(t->srcfd, t->dstfd, m, o, res.final_path, &res.reason, res.err, sizeof res.err);
    return res;
}

static struct result move(const struct tree *t, const struct msg *m, enum fileop_conflict c)
{
    struct fileop_opts o;
    memset(&o, 0, sizeof o);
    o.conflict = c;
    return move_with(t, m, &o);
}

/* Set root/rel's mtime to that of m (a copy's times). */
static void set_mtime(const char *root, const char *rel, const struct msg *m)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {(time_t)m->mtime_sec, (long)m->mtime_nsec}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* ---- moves and conflicts (same file system, or a copy in exdev mode) ---- */

static void test_move(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->src, "a/b/file.txt", "hello");
    char path[512];
    snprintf(path, sizeof path, "%s/a/b/file.txt", t->src);
    assert_int_equal(chmod(path, 0640), 0);
    scanned(t, "a/b/file.txt", &m);
    struct result res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_MOVED);
    assert_string_equal(res.final_path, "a/b/file.txt");
    assert_string_equal(get(t->dst, "a/b/file.txt"), "hello");
    assert_false(there(t->src, "a/b/file.txt"));
    struct stat st;
    snprintf(path, sizeof path, "%s/a/b/file.txt", t->dst);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(st.st_mtim.tv_sec, m.mtime_sec);
    assert_int_equal(st.st_mtim.tv_nsec, m.mtime_nsec);
    if (!exdev_mode)
        assert_int_equal(st.st_ino, m.ino);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/a/b", t->dst);
    assert_clean(dir);
    snprintf(dir, sizeof dir, "%s/a/b", t->src);
    assert_clean(dir);

    /* The redelivery of a finished move is a duplicate. */
    res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_DUPLICATE);
    assert_string_equal(get(t->dst, "a/b/file.txt"), "hello");
}

/* Through a named temporary (no O_TMPFILE), under --fsync's group commit,
 * with heartbeats; the bytes copied counted (in exdev mode). */
static int ticks;
static void tick(void *arg)
{
    (void)arg;
    ticks++;
}

static void test_move_named_temp_fsync(void **state)
{
    struct tree *t = *state;
    struct msg m;
    struct durable_group g;
    durable_group_init(&g);
    put(t->src, "f", "named");
    scanned(t, "f", &m);
    struct fileop_opts o;
    memset(&o, 0, sizeof o);
    o.named_temp = 1;
    o.sync = &g;
    o.tick = tick;
    uint64_t copied = 0; /* move's scanmove_move_copy_bytes_total */
    o.copied = &copied;
    struct result res = move_with(t, &m, &o);
    assert_int_equal(res.r, FILEOP_MOVED);
    assert_int_equal(copied, exdev_mode ? 5 : 0);
    assert_string_equal(get(t->dst, "f"), "named");
    assert_false(there(t->src, "f"));
    assert_true(g.n >= 1);
    assert_int_equal(durable_group_flush(&g), 0);
    assert_int_equal(g.n, 0);
    assert_clean(t->dst);
}

static void test_conflict_rename(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->dst, "d/x.txt", "theirs");
    put(t->dst, "d/x.1.txt", "theirs too");
    put(t->src, "d/x.txt", "mine");
    scanned(t, "d/x.txt", &m);
    struct result res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_MOVED);
    assert_string_equal(res.final_path, "d/x.2.txt");
    assert_string_equal(get(t->dst, "d/x.txt"), "theirs");
    assert_string_equal(get(t->dst, "d/x.1.txt"), "theirs too");
    assert_string_equal(get(t->dst, "d/x.2.txt"), "mine");
    assert_false(there(t->src, "d/x.txt"));
    /* Its redelivery finds it under the conflict name: no x.3.txt. */
    res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_DUPLICATE);
    assert_false(there(t->dst, "d/x.3.txt"));
}

static void test_conflict_skip(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->dst, "x", "theirs");
    put(t->src, "x", "mine");
    scanned(t, "x", &m);
    struct result res = move(t, &m, FILEOP_SKIP);
    assert_int_equal(res.r, FILEOP_SKIPPED);
    assert_string_equal(get(t->dst, "x"), "theirs");
    assert_string_equal(get(t->src, "x"), "mine");
}

static void test_conflict_fail(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->dst, "x", "theirs");
    put(t->src, "x", "mine");
    scanned(t, "x", &m);
    struct result res = move(t, &m, FILEOP_FAIL);
    assert_int_equal(res.r, FILEOP_PERMANENT);
    assert_int_equal(res.reason, MOVE_REASON_EXISTS);
    assert_string_equal(move_reason_name(res.reason), "exists");
    assert_string_equal(get(t->dst, "x"), "theirs");
    assert_string_equal(get(t->src, "x"), "mine");
}

static void test_conflict_overwrite(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->dst, "x", "theirs, and longer");
    put(t->src, "x", "mine");
    scanned(t, "x", &m);
    struct result res = move(t, &m, FILEOP_OVERWRITE);
    assert_int_equal(res.r, FILEOP_MOVED);
    assert_string_equal(get(t->dst, "x"), "mine");
    assert_false(there(t->src, "x"));
    assert_int_equal(entries(t->dst, &(int){0}), 1);
}

/* The same bytes already at DEST (a copy whose source a crash kept): the
 * move finishes it, whatever the conflict policy. */
static void test_same_file_there(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->src, "x", "same");
    scanned(t, "x", &m);
    put(t->dst, "x", "same");
    set_mtime(t->dst, "x", &m);
    struct result res = move(t, &m, FILEOP_FAIL);
    assert_int_equal(res.r, FILEOP_DUPLICATE);
    assert_false(there(t->src, "x"));
    assert_string_equal(get(t->dst, "x"), "same");
    assert_int_equal(entries(t->dst, &(int){0}), 1);
}

/* A file busy in another mover's hands: with stop set, the wait ends. */
static void test_busy(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->dst, "x", "theirs");
    put(t->src, "x", "mine");
    scanned(t, "x", &m);
    char path[512];
    snprintf(path, sizeof path, "%s/x", t->src);
    int fd = open(path, O_RDONLY);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    volatile sig_atomic_t stop = 1;
    struct fileop_opts o;
    memset(&o, 0, sizeof o);
    o.conflict = FILEOP_RENAME;
    o.stop = &stop;
    struct result res = move_with(t, &m, &o);
    close(fd);
    assert_int_equal(res.r, FILEOP_TRANSIENT);
    assert_int_equal(res.reason, MOVE_REASON_BUSY);
    assert_string_equal(get(t->src, "x"), "mine");
    assert_false(there(t->dst, "x.1"));
}

/* ---- what was scanned is no longer there ---- */

static void test_changed_vanished(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->src, "x", "before");
    scanned(t, "x", &m);
    put(t->src, "x", "after, longer");
    struct result res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_PERMANENT);
    assert_int_equal(res.reason, MOVE_REASON_CHANGED);
    assert_string_equal(get(t->src, "x"), "after, longer");
    assert_false(there(t->dst, "x"));

    put(t->src, "gone/y", "y");
    scanned(t, "gone/y", &m);
    char path[512];
    snprintf(path, sizeof path, "%s/gone/y", t->src);
    assert_int_equal(unlink(path), 0);
    res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_PERMANENT);
    assert_int_equal(res.reason, MOVE_REASON_VANISHED);
    assert_false(there(t->dst, "gone")); /* a gone source creates nothing */

    snprintf(m.path, sizeof m.path, "dir/");
    res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.reason, MOVE_REASON_NOT_REGULAR);
}

/* ---- symlink swaps: refused, nothing outside the roots touched ---- */

static void swap_for_symlink(const char *root, const char *rel, const char *target)
{
    char path[512], aside[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(aside, sizeof aside, "%s/%s.aside", root, rel);
    assert_int_equal(rename(path, aside), 0);
    assert_int_equal(symlink(target, path), 0);
}

static void test_symlink_source_dir(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->src, "a/f", "scanned");
    put(t->src, "inside/f", "inside");
    put(t->out, "f", "outside");
    scanned(t, "a/f", &m);
    /* a/ becomes a symlink to a directory inside the root ... */
    swap_for_symlink(t->src, "a", "inside");
    struct result res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_PERMANENT);
    assert_int_equal(res.reason, MOVE_REASON_SYMLINK);
    assert_string_equal(get(t->src, "inside/f"), "inside");
    /* ... or outside it (absolute, and relative through ..). */
    char a[512];
    snprintf(a, sizeof a, "%s/a", t->src);
    assert_int_equal(unlink(a), 0);
    assert_int_equal(symlink(t->out, a), 0);
    res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.reason, MOVE_REASON_SYMLINK);
    snprintf(m.path, sizeof m.path, "../outside/f");
    res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_PERMANENT);
    assert_string_equal(get(t->out, "f"), "outside");
    assert_int_equal(entries(t->out, &(int){0}), 1);
    assert_int_equal(entries(t->dst, &(int){0}), 0);
}

static void test_symlink_source_file(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->src, "f", "scanned");
    put(t->out, "f", "outside");
    scanned(t, "f", &m);
    char target[512];
    snprintf(target, sizeof target, "%s/f", t->out);
    swap_for_symlink(t->src, "f", target);
    struct result res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_PERMANENT);
    assert_int_equal(res.reason, MOVE_REASON_SYMLINK);
    assert_string_equal(get(t->out, "f"), "outside");
    assert_int_equal(entries(t->dst, &(int){0}), 0);
}

static void test_symlink_dest_dir(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->src, "a/b/f", "scanned");
    put(t->dst, "a/b/keep", "kept");
    scanned(t, "a/b/f", &m);
    /* DEST's a/ becomes a symlink to outside/, which has a b/ too. */
    put(t->out, "b/other", "outside");
    swap_for_symlink(t->dst, "a", t->out);
    struct result res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_PERMANENT);
    assert_int_equal(res.reason, MOVE_REASON_SYMLINK);
    assert_string_equal(get(t->src, "a/b/f"), "scanned");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/b", t->out);
    assert_int_equal(entries(dir, &(int){0}), 1);
    /* and to a directory inside DEST */
    char path[512];
    snprintf(path, sizeof path, "%s/a", t->dst);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink("a.aside", path), 0);
    res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.reason, MOVE_REASON_SYMLINK);
    assert_false(there(t->dst, "a.aside/b/f"));
    assert_string_equal(get(t->src, "a/b/f"), "scanned");
}

/* ---- short of memory ---- */

/* Linked with -Wl,--wrap=malloc: a scratch-buffer-sized malloc fails while
 * fail_big_malloc is set, as under memory pressure or a low RLIMIT_AS. */
void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
static int fail_big_malloc;

void *__wrap_malloc(size_t n)
{
    if (fail_big_malloc && n >= FILEOP_BUF_SIZE) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_malloc(n);
}

/* A redelivery whose earlier copy a crash left at DEST, with no memory for
 * the comparison buffer: the message is retried later. Taking the copy for
 * another file would let --on-conflict rename place the file twice. */
static void test_no_memory_for_comparison(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->src, "f.txt", "copied");
    scanned(t, "f.txt", &m);
    put(t->dst, "f.txt", "copied");
    set_mtime(t->dst, "f.txt", &m);
    fail_big_malloc = 1;
    struct result res = move(t, &m, FILEOP_RENAME);
    fail_big_malloc = 0;
    assert_int_equal(res.r, FILEOP_TRANSIENT);
    assert_int_equal(res.reason, MOVE_REASON_IO_ERROR);
    assert_false(there(t->dst, "f.1.txt"));
    assert_string_equal(get(t->src, "f.txt"), "copied");
    res = move(t, &m, FILEOP_RENAME); /* memory again: recognised */
    assert_int_equal(res.r, FILEOP_DUPLICATE);
    assert_false(there(t->dst, "f.1.txt"));
}

/* ---- a redelivery after each crash point ---- */

/* Crash after the copy was linked into place (or after the rename), before
 * the source was removed and the message acknowledged. */
static void test_crash_after_link(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->src, "d/f", "copied");
    scanned(t, "d/f", &m);
    put(t->dst, "d/f", "copied");
    set_mtime(t->dst, "d/f", &m);
    struct result res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_DUPLICATE);
    assert_string_equal(res.final_path, "d/f");
    assert_false(there(t->src, "d/f"));
    char dir[512];
    snprintf(dir, sizeof dir, "%s/d", t->dst);
    assert_int_equal(entries(dir, &(int){0}), 1);
}

/* The same under a conflict name: a different file had the name. */
static void test_crash_after_link_conflict_name(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->src, "f.txt", "copied");
    scanned(t, "f.txt", &m);
    put(t->dst, "f.txt", "theirs");
    put(t->dst, "f.1.txt", "copied");
    set_mtime(t->dst, "f.1.txt", &m);
    struct result res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_DUPLICATE);
    assert_string_equal(res.final_path, "f.1.txt");
    assert_false(there(t->src, "f.txt"));
    assert_false(there(t->dst, "f.2.txt"));
    assert_string_equal(get(t->dst, "f.txt"), "theirs");
}

/* Crash in the middle of a copy through a named temporary (a partial
 * file), and of a time probe: both are removed, the file moves once. */
static void test_crash_leftover_temp_and_probe(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->src, "d/f", "the whole file");
    scanned(t, "d/f", &m);
    char name[128];
    snprintf(name, sizeof name, "d/.scanmove-%s.tmp", m.id);
    put(t->dst, name, "the wh");
    snprintf(name, sizeof name, "d/.scanmove-%s.probe", m.id);
    put(t->dst, name, "");
    if (!exdev_mode) /* a rename needs no temporary: make it take the slow path */
        put(t->dst, "d/f", "theirs");
    struct result res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_MOVED);
    const char *at = exdev_mode ? "d/f" : "d/f.1";
    assert_string_equal(res.final_path, at);
    assert_string_equal(get(t->dst, at), "the whole file");
    assert_false(there(t->src, "d/f"));
    char dir[512];
    snprintf(dir, sizeof dir, "%s/d", t->dst);
    assert_clean(dir);
}

/* Crash while removing a copied source: it is left under its private name
 * .scanmove-ID.del, the copy in place. The redelivery removes it. */
static void test_crash_leftover_del(void **state)
{
    struct tree *t = *state;
    struct msg m;
    if (!exdev_mode) /* only a copy removes its source this way */
        skip();
    put(t->src, "d/f", "copied");
    scanned(t, "d/f", &m);
    put(t->dst, "d/f", "copied");
    set_mtime(t->dst, "d/f", &m);
    char from[512], to[512];
    snprintf(from, sizeof from, "%s/d/f", t->src);
    snprintf(to, sizeof to, "%s/d/.scanmove-%s.del", t->src, m.id);
    assert_int_equal(rename(from, to), 0);
    struct result res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_DUPLICATE);
    snprintf(from, sizeof from, "%s/d", t->src);
    assert_int_equal(entries(from, &(int){0}), 0);
    assert_string_equal(get(t->dst, "d/f"), "copied");
}

/* Crash after a rename into a conflict name, before the ack: the
 * redelivery finds it there (by inode on one file system). */
static void test_crash_after_rename_conflict(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->src, "f", "mine");
    put(t->dst, "f", "theirs");
    scanned(t, "f", &m);
    struct result res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_MOVED);
    assert_string_equal(res.final_path, "f.1");
    res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_DUPLICATE);
    assert_int_equal(entries(t->dst, &(int){0}), 2);
}

/* A partial copy at the destination's name (another writer's, or a
 * truncated one): never taken for the file; the source stays until a
 * whole copy is in place. */
static void test_partial_copy_at_name(void **state)
{
    struct tree *t = *state;
    struct msg m;
    put(t->src, "f", "the whole file");
    scanned(t, "f", &m);
    put(t->dst, "f", "the whole fi");
    set_mtime(t->dst, "f", &m);
    struct result res = move(t, &m, FILEOP_FAIL);
    assert_int_equal(res.r, FILEOP_PERMANENT);
    assert_int_equal(res.reason, MOVE_REASON_EXISTS);
    assert_string_equal(get(t->src, "f"), "the whole file");
    /* Same size, other bytes: compared, not taken either. */
    put(t->dst, "f", "the whole fil!");
    set_mtime(t->dst, "f", &m);
    res = move(t, &m, FILEOP_RENAME);
    assert_int_equal(res.r, FILEOP_MOVED);
    assert_string_equal(res.final_path, "f.1");
    assert_string_equal(get(t->dst, "f.1"), "the whole file");
}

/* ---- the reason names ---- */

static void test_reason_names(void **state)
{
    (void)state;
    for (int e = MSG_OK + 1; e < MSG_ERR__COUNT; e++)
        assert_string_equal(move_reason_name(move_reason_of_msg_err((enum msg_err)e)),
                            msg_err_name((enum msg_err)e));
    for (int a = 0; a < MOVE_REASON__COUNT; a++) {
        assert_true(a == MOVE_REASON_UNKNOWN ||
                    strcmp(move_reason_name((enum move_reason)a), "unknown") != 0);
        for (int b = 0; b < a; b++)
            assert_string_not_equal(move_reason_name((enum move_reason)a),
                                    move_reason_name((enum move_reason)b));
    }
    assert_string_equal(move_reason_name(MOVE_REASON__COUNT), "unknown");
    assert_string_equal(move_reason_name(MOVE_REASON_DEST_VANISHED), "dest-vanished");
}

/*
 * exdev: put the destination on a tmpfs of its own, in a mount namespace
 * of this process alone. Where that cannot be done (not root, no
 * namespaces in this container), exit 77: ctest reports a skip.
 */
static int enter_exdev_mode(void)
{
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        fprintf(stderr, "test_fileop: skipped: cannot make a private mount namespace: %s\n",
                strerror(errno));
        return -1;
    }
    char probe[] = "/tmp/test_fileop.XXXXXX";
    if (mkdtemp(probe) == NULL)
        return -1;
    int ok = mount("tmpfs", probe, "tmpfs", 0, "size=1m") == 0;
    int e = errno;
    if (ok)
        umount2(probe, MNT_DETACH);
    rmdir(probe);
    if (!ok) {
        fprintf(stderr, "test_fileop: skipped: cannot mount a tmpfs: %s\n", strerror(e));
        return -1;
    }
    exdev_mode = 1;
    return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exdev") == 0 && enter_exdev_mode() < 0)
        return 77;
    const struct CMUnitTest tests[] = {
        T(test_move),
        T(test_move_named_temp_fsync),
        T(test_conflict_rename),
        T(test_conflict_skip),
        T(test_conflict_fail),
        T(test_conflict_overwrite),
        T(test_same_file_there),
        T(test_busy),
        T(test_changed_vanished),
        T(test_symlink_source_dir),
        T(test_symlink_source_file),
        T(test_symlink_dest_dir),
        T(test_crash_after_link),
        T(test_crash_after_link_conflict_name),
        T(test_crash_leftover_temp_and_probe),
        T(test_crash_leftover_del),
        T(test_crash_after_rename_conflict),
        T(test_partial_copy_at_name),
        T(test_no_memory_for_comparison),
        cmocka_unit_test(test_reason_names),
    };
    return cmocka_run_group_tests_name(exdev_mode ? "fileop across devices" : "fileop", tests, NULL,
                                       NULL);
}
