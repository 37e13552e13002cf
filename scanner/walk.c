/* walk.c - streaming directory traversal; see walk.h. */
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct frame {
    DIR *dir;
    size_t path_len; /* length of the relative path of this directory */
};

struct walker {
    const struct walk_opts *o;
    walk_fn fn;
    void *arg;
    dev_t root_dev;
    char path[WALK_PATH_MAX + 2 + 256];
    int file_dir;          /* the directory and name of the regular file */
    const char *file_name; /* being emitted (walk_entry's dirfd, name) */
    struct frame *stack;
    size_t depth, cap;
};

static int emit(struct walker *w, enum walk_kind kind, size_t len, const struct stat *st,
                enum scan_reason reason, int err_no)
{
    struct walk_entry e = {.kind = kind,
                           .path = w->path,
                           .path_len = len,
                           .st = st,
                           .reason = reason,
                           .err_no = err_no,
                           .dirfd = kind == WALK_FILE ? w->file_dir : -1,
                           .name = kind == WALK_FILE ? w->file_name : NULL};
    return w->fn(&e, w->arg);
}

static int stopped(const struct walker *w)
{
    return w->o->stop != NULL && *w->o->stop;
}

static int push(struct walker *w, DIR *d, size_t len)
{
    if (w->depth == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct frame *s = realloc(w->stack, cap * sizeof *s);
        if (s == NULL)
            return -1;
        w->stack = s;
        w->cap = cap;
    }
    w->stack[w->depth].dir = d;
    w->stack[w->depth].path_len = len;
    w->depth++;
    return 0;
}

/* Enter the directory name (already lstat'ed as st) under parent fd. */
static int enter(struct walker *w, int parent, const char *name, size_t len, const struct stat *st)
{
    if (w->o->max_depth != 0 && w->depth >= w->o->max_depth)
        return emit(w, WALK_SKIPPED, len, st, SCAN_REASON_TOO_DEEP, 0);
    if (w->o->one_file_system && st->st_dev != w->root_dev)
        return emit(w, WALK_SKIPPED, len, st, SCAN_REASON_OTHER_FILESYSTEM, 0);
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        enum scan_reason why = e == ENOENT || e == ENOTDIR || e == ELOOP ? SCAN_REASON_VANISHED
                               : e == EACCES || e == EPERM ? SCAN_REASON_UNREADABLE_DIR
                                                           : SCAN_REASON_IO_ERROR;
        return emit(w, WALK_FAILED, len, st, why, e);
    }
    DIR *d = fdopendir(fd);
    if (d == NULL || push(w, d, len) < 0) {
        int e = errno;
        if (d != NULL)
            closedir(d);
        else
            close(fd);
        return emit(w, WALK_FAILED, len, st, SCAN_REASON_IO_ERROR, e);
    }
    return 0;
}

/* Handle one directory entry of the directory on top of the stack. */
static int visit(struct walker *w, const struct dirent *de)
{
    /* enter() may grow the stack: keep values, not pointers into it. */
    DIR *topdir = w->stack[w->depth - 1].dir;
    const char *name = de->d_name;
    size_t nlen = strlen(name), base = w->stack[w->depth - 1].path_len;
    size_t len = base + (base ? 1 : 0) + nlen;
    struct stat st;

    if (len > WALK_PATH_MAX) {
        /* The buffer holds one name more than the limit: report it whole. */
        if (base)
            w->path[base] = '/';
        memcpy(w->path + base + (base ? 1 : 0), name, nlen + 1);
        int r = emit(w, WALK_FAILED, len, NULL, SCAN_REASON_PATH_TOO_LONG, ENAMETOOLONG);
        w->path[base] = '\0';
        return r;
    }
    if (base)
        w->path[base] = '/';
    memcpy(w->path + base + (base ? 1 : 0), name, nlen + 1);

    int r;
    int dfd = dirfd(topdir);
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        int e = errno;
        r = emit(w, WALK_FAILED, len, NULL,
                 e == ENOENT ? SCAN_REASON_VANISHED : SCAN_REASON_IO_ERROR, e);
    } else if (name[0] == '.' && !w->o->hidden) {
        r = emit(w, WALK_SKIPPED, len, &st, SCAN_REASON_HIDDEN, 0);
    } else if (S_ISDIR(st.st_mode)) {
        r = enter(w, dfd, name, len, &st);
    } else if (S_ISREG(st.st_mode)) {
        w->file_dir = dfd;
        w->file_name = name;
        r = emit(w, WALK_FILE, len, &st, SCAN_REASON_NONE, 0);
    } else if (S_ISLNK(st.st_mode)) {
        r = emit(w, WALK_SYMLINK, len, &st, SCAN_REASON_NONE, 0);
    } else {
        r = emit(w, WALK_OTHER, len, &st, SCAN_REASON_NONE, 0);
    }
    /* enter() may have pushed a frame: the parent's path is restored when
     * that directory is finished. */
    if (w->stack[w->depth - 1].dir == topdir)
        w->path[base] = '\0';
    return r;
}

int walk_tree(int rootfd, const struct walk_opts *o, walk_fn fn, void *arg, char *err,
              size_t errlen)
{
    struct walker w;
    struct stat st;
    memset(&w, 0, sizeof w);
    w.o = o;
    w.fn = fn;
    w.arg = arg;
    if (fstat(rootfd, &st) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    w.root_dev = st.st_dev;
    int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (d == NULL) {
        snprintf(err, errlen, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (push(&w, d, 0) < 0) {
        closedir(d);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int stop = 0;
    while (w.depth > 0) {
        struct frame *top = &w.stack[w.depth - 1];
        errno = 0;
        struct dirent *de = stop ? NULL : readdir(top->dir);
        if (de == NULL) {
            int e = errno;
            size_t len = top->path_len;
            closedir(top->dir);
            w.depth--;
            w.path[len] = '\0';
            if (e != 0 && !stop) {
                if (len == 0) {
                    snprintf(err, errlen, "%s", strerror(e));
                    stop = -1;
                } else {
                    stop = emit(&w, WALK_FAILED, len, NULL, SCAN_REASON_UNREADABLE_DIR, e) != 0;
                }
            }
            /* Back in the parent: its path ends where the child began. */
            if (w.depth > 0)
                w.path[w.stack[w.depth - 1].path_len] = '\0';
            continue;
        }
        if (de->d_name[0] == '.' &&
            (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0')))
            continue;
        if (visit(&w, de) != 0 || stopped(&w))
            stop = stop ? stop : 1;
    }
    free(w.stack);
    return stop < 0 ? -1 : 0;
}
