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

struct fileop_opts {
    enum fileop_conflict conflict;
    int fsync;            /* make same-filesystem renames durable too */
    void (*tick)(void *); /* called now and then during long copies (heartbeats) */
    void *tick_arg;
};

/*
 * fileop_move - move the file m->path of the root open as srcroot to the
 * same relative path beneath dstroot, after checking it is still the file
 * m describes (regular; same device, inode, size and mtime). On
 * FILEOP_PERMANENT and FILEOP_TRANSIENT, *reason is a stable code
 * ("changed", "vanished", "not-regular", "symlink", "exists",
 * "permission-denied", "io-error", "no-space") and err a sentence.
 * final_path (MSG_PATH_MAX + 32 bytes) receives the destination path used
 * (it differs under FILEOP_RENAME conflicts).
 */
enum fileop_result fileop_move(int srcroot, int dstroot, const struct msg *m,
                               const struct fileop_opts *o, char *final_path, const char **reason,
                               char *err, size_t errlen);

#endif
