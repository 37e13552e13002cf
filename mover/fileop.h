/*
 * fileop.h - the mover's file operations, confined to its roots.
 *
 * Every path from a message is resolved beneath an open root directory
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): no component may be
 * a symlink, nothing outside the root can be reached, and no path string
 * is ever built from untrusted input for a path-based call.
 */
#ifndef SCANMOVE_FILEOP_H
#define SCANMOVE_FILEOP_H

#include <signal.h>
#include <stddef.h>

#include "msg.h"

enum fileop_conflict { FILEOP_RENAME = 0, FILEOP_SKIP, FILEOP_FAIL, FILEOP_OVERWRITE };

enum fileop_result {
    FILEOP_MOVED,     /* the file is at the destination (*final_path says where) */
    FILEOP_DUPLICATE, /* it was already there: a redelivery of a finished move */
    FILEOP_SKIPPED,   /* --on-conflict skip: left in place */
    FILEOP_PERMANENT, /* will never work: dead-letter with *reason */
    FILEOP_TRANSIENT  /* may work later (no space, I/O error): requeue */
};

/*
 * A group commit: the directories whose renames must reach the disk before
 * the messages of a group are acknowledged. Each directory is kept once
 * (by device and inode), so that a group of renames into the same
 * directories shares one fsync of each.
 */
#define FILEOP_SYNC_MAX 64

struct fileop_sync {
    int fd[FILEOP_SYNC_MAX];
    unsigned long long dev[FILEOP_SYNC_MAX], ino[FILEOP_SYNC_MAX];
    unsigned n;
    int error; /* first errno of an early flush (a full group), 0 if none */
};

/* fileop_sync_init - an empty group. */
void fileop_sync_init(struct fileop_sync *g);

/*
 * fileop_sync_add - remember directory dir (the caller keeps its own
 * descriptor; the group holds a duplicate) unless the group has it already.
 * A full group is flushed first. Returns 0, or -1 with errno when
 * duplicating the descriptor failed (the caller then fsyncs dir itself).
 */
int fileop_sync_add(struct fileop_sync *g, int dir);

/*
 * fileop_sync_flush - fsync every directory of the group and empty it.
 * Returns 0 when all of them (and every early flush since the last call)
 * succeeded, or -1 with errno of the first failure: the group's renames
 * may then not be durable.
 */
int fileop_sync_flush(struct fileop_sync *g);

struct fileop_opts {
    enum fileop_conflict conflict;
    /* --fsync: the directories of each move are added here, and the caller
     * flushes the group before acknowledging; NULL: no directory fsync
     * beyond the one a cross-device copy needs before removing its source. */
    struct fileop_sync *sync;
    /* called now and then during long copies and while waiting for another
     * mover's lock on a file (heartbeats) */
    void (*tick)(void *);
    void *tick_arg;
    volatile sig_atomic_t *stop; /* when set, stop waiting for a lock */
    /* the message comes from a scan on another host, whose device numbers
     * mean nothing here: the source's identity is its inode alone */
    int other_host;
    /* copy through a named temporary (.scanmove-ID.tmp) even where the
     * filesystem has O_TMPFILE, as where it has none (for tests) */
    int named_temp;
};

/*
 * fileop_move - move the file m->path of the root open as srcroot to the
 * same relative path beneath dstroot, after checking it is still the file
 * m describes (regular; same device, inode, size and mtime; the device
 * only when scanned on this host). On
 * FILEOP_PERMANENT and FILEOP_TRANSIENT, *reason is a stable code
 * ("changed", "vanished", "not-regular", "symlink", "exists",
 * "permission-denied", "path-too-long", "io-error", "no-space", "busy",
 * "dest-vanished": a destination directory was removed meanwhile, the
 * source is in place) and err a sentence.
 *
 * Two movers never work on one file at once: a rename is atomic, and a
 * copy (or a conflict) is done holding an exclusive flock(2) on the
 * source, so that a second mover with the same file (a redelivery after
 * the broker's consumer timeout, or a duplicate message from overlapping
 * scans) waits for the first and then finds the move done
 * (FILEOP_DUPLICATE). A file already at the destination under its name or
 * a conflict name counts as done; after a copy, its modification time is
 * compared as the destination filesystem stores it (a probe file there
 * says what that is for the scanned time: filesystems with coarser times
 * truncate it). Directories of dstroot removed meanwhile (a cleanup job)
 * are made again; dstroot itself must be usable (the caller checks).
 * final_path (MSG_PATH_MAX + 32 bytes) receives the destination path used
 * (it differs under FILEOP_RENAME conflicts).
 */
enum fileop_result fileop_move(int srcroot, int dstroot, const struct msg *m,
                               const struct fileop_opts *o, char *final_path, const char **reason,
                               char *err, size_t errlen);

#endif
