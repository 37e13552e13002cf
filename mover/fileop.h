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

#include "durable.h"
#include "hash.h"
#include "msg.h"
#include "reason.h"

enum fileop_conflict { FILEOP_RENAME = 0, FILEOP_SKIP, FILEOP_FAIL, FILEOP_OVERWRITE };

enum fileop_result {
    FILEOP_MOVED,     /* the file is at the destination (*final_path says where) */
    FILEOP_DUPLICATE, /* it was already there: a redelivery of a finished move */
    FILEOP_SKIPPED,   /* --on-conflict skip: left in place */
    FILEOP_PERMANENT, /* will never work: dead-letter with *reason */
    FILEOP_TRANSIENT  /* may work later (no space, I/O error): requeue */
};

/* The size of a move's scratch buffer (struct fileop_opts.buf): a block
 * of a copy through read and write, or two blocks compared. */
#define FILEOP_BUF_SIZE (1 << 20)

/* What a move did besides the move, for the caller's counts and the
 * moved event. fileop_move clears it first. */
struct fileop_notes {
    /* the hash of the content as the mover read it, "ALG:HEX" (hash.h),
     * compared with the message's: "" when nothing was hashed */
    char hash[HASH_STR_MAX + 1];
    /* extended attributes and ACLs of the source that the destination
     * refused (copies across file systems only); the first one's name
     * and why in meta_why */
    unsigned meta_lost;
    char meta_why[256];
};

struct fileop_opts {
    enum fileop_conflict conflict;
    /* --fsync: the directories of each move are added here, and the caller
     * flushes the group before acknowledging; NULL: no directory fsync
     * beyond the one a cross-device copy needs before removing its source. */
    struct durable_group *sync;
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
    /* FILEOP_BUF_SIZE bytes of scratch for copies and comparisons, owned
     * by the caller, who allocates it once for many moves; NULL: a move
     * that needs one allocates its own, freed before it returns. */
    char *buf;
    /* bytes copied across file systems are added here as they go; may be NULL */
    uint64_t *copied;
    /* The destination path, relative to dstroot (the --layout expansion,
     * already checked: no empty, "." or ".." component); NULL: m->path. */
    const char *dest_rel;
    /* --verify: on one file system, hash the source and compare it with
     * the message's hash before the rename (a copy always compares). */
    int verify;
    /* --hash-xattr: store the hash the mover computed on the destination
     * file as the xattr HASH_XATTR (implies verify) */
    int hash_xattr;
    /* --strict-metadata: an attribute the destination refuses fails the
     * move (MOVE_REASON_METADATA), instead of a note in notes->meta_lost */
    int strict_metadata;
    struct fileop_notes *notes; /* may be NULL */
};

/*
 * fileop_move - move the file m->path of the root open as srcroot to the
 * same relative path beneath dstroot, after checking it is still the file
 * m describes (regular; same device, inode, size and mtime; the device
 * only when scanned on this host). On
 * FILEOP_PERMANENT and FILEOP_TRANSIENT, *reason is the reason
 * (MOVE_REASON_CHANGED, _VANISHED, _NOT_REGULAR, _SYMLINK, _EXISTS,
 * _PERMISSION_DENIED, _PATH_TOO_LONG, _IO_ERROR, _NO_SPACE, _BUSY, or
 * _DEST_VANISHED: a destination directory was removed meanwhile, the
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
                               const struct fileop_opts *o, char *final_path,
                               enum move_reason *reason, char *err, size_t errlen);

#endif
