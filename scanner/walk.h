/*
 * walk.h - streaming directory traversal for scan.
 *
 * Depth first, one open directory per level, entries handed to a callback
 * as readdir(3) returns them: memory does not grow with the size of a
 * directory or of the tree. Symbolic links are never followed; every
 * entry is lstat'ed relative to its open parent (fstatat), so a directory
 * swapped for a symlink mid-walk is seen as a symlink, not entered.
 */
#ifndef SCANMOVE_WALK_H
#define SCANMOVE_WALK_H

#include <signal.h>
#include <stddef.h>
#include <limits.h>
#include <sys/stat.h>

#include "reason.h"

/* Longest relative path accepted: one the kernel takes in a single openat(2)
 * (PATH_MAX counts the NUL). Longer ones are SCAN_REASON_PATH_TOO_LONG. */
#define WALK_PATH_MAX (PATH_MAX - 1)

enum walk_kind {
    WALK_FILE,    /* a regular file */
    WALK_SYMLINK, /* a symbolic link (never followed) */
    WALK_OTHER,   /* FIFO, socket, device: never opened */
    WALK_SKIPPED, /* an entry the walk leaves out: reason HIDDEN, TOO_DEEP or
                     OTHER_FILESYSTEM (directories are then not entered) */
    WALK_FAILED   /* reason UNREADABLE_DIR, VANISHED, IO_ERROR or PATH_TOO_LONG */
};

struct walk_entry {
    enum walk_kind kind;
    const char *path; /* relative to the walk's root, NUL-terminated, no leading '/' */
    size_t path_len;
    const struct stat *st;   /* lstat of the entry; NULL for some WALK_FAILED */
    enum scan_reason reason; /* WALK_SKIPPED and WALK_FAILED; else SCAN_REASON_NONE */
    int err_no;              /* WALK_FAILED: the errno behind it, or 0 */
    int dirfd;               /* WALK_FILE: its open directory (for *at calls), else -1 */
    const char *name;        /* WALK_FILE: its name in dirfd, else NULL */
};

struct walk_opts {
    unsigned max_depth;          /* 0: unlimited; 1: only the root's own entries */
    int one_file_system;         /* do not enter directories on another device than the root */
    int hidden;                  /* include entries whose name starts with '.' */
    volatile sig_atomic_t *stop; /* when non-NULL and set, the walk ends early */
};

/*
 * walk_fn - called once per entry, in readdir order, from the walking
 * thread. e and what it points to are valid during the call only. Return
 * 0 to go on, non-zero to end the walk.
 */
typedef int (*walk_fn)(const struct walk_entry *e, void *arg);

/*
 * walk_tree - walk the directory open as rootfd (not closed, not moved;
 * the walk uses its own descriptors). Directories are not reported except
 * when skipped or failed. Returns 0 when the walk completed or was stopped
 * by the callback or o->stop, -1 with a sentence in err when the root
 * itself cannot be read.
 */
int walk_tree(int rootfd, const struct walk_opts *o, walk_fn fn, void *arg, char *err,
              size_t errlen);

#endif
