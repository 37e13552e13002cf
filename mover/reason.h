/*
 * reason.h - why the mover dead-letters or requeues a message: one enum,
 * one name table.
 *
 * The names are stable: they are printed in log lines and in move --json's
 * "dead_by_reason", and sent in the dead letter's x-reason header.
 */
#ifndef SCANMOVE_REASON_H
#define SCANMOVE_REASON_H

#include "msg.h"

enum move_reason {
    /* what fileop_move finds */
    MOVE_REASON_CHANGED,           /* "changed" */
    MOVE_REASON_VANISHED,          /* "vanished" */
    MOVE_REASON_NOT_REGULAR,       /* "not-regular" */
    MOVE_REASON_SYMLINK,           /* "symlink" */
    MOVE_REASON_EXISTS,            /* "exists" */
    MOVE_REASON_PERMISSION_DENIED, /* "permission-denied" */
    MOVE_REASON_PATH_TOO_LONG,     /* "path-too-long" (also MSG_ERR_PATH_LONG) */
    MOVE_REASON_IO_ERROR,          /* "io-error" */
    MOVE_REASON_NO_SPACE,          /* "no-space" */
    MOVE_REASON_BUSY,              /* "busy" */
    MOVE_REASON_DEST_VANISHED,     /* "dest-vanished" */
    MOVE_REASON_CHECKSUM_MISMATCH, /* "checksum-mismatch": content differs from the scan's hash */
    MOVE_REASON_METADATA,          /* "metadata-not-preserved": under --strict-metadata */
    MOVE_REASON_BAD_LAYOUT,        /* "bad-layout": --layout gives no usable path */
    /* what the consumer finds */
    MOVE_REASON_ROOT_NOT_ALLOWED, /* "root-not-allowed" */
    /* the message itself (msg_decode), named as msg_err_name names them */
    MOVE_REASON_OVERSIZED,       /* "oversized" */
    MOVE_REASON_MALFORMED_JSON,  /* "malformed-json" */
    MOVE_REASON_NOT_OBJECT,      /* "not-object" */
    MOVE_REASON_MISSING_FIELD,   /* "missing-field" */
    MOVE_REASON_WRONG_TYPE,      /* "wrong-type" */
    MOVE_REASON_UNKNOWN_VERSION, /* "unknown-version" */
    MOVE_REASON_BAD_VALUE,       /* "bad-value" */
    MOVE_REASON_DUPLICATE_FIELD, /* "duplicate-field" */
    MOVE_REASON_EMPTY_PATH,      /* "empty-path" */
    MOVE_REASON_ABSOLUTE_PATH,   /* "absolute-path" */
    MOVE_REASON_DOTDOT,          /* "dotdot" */
    MOVE_REASON_NUL_BYTE,        /* "nul-byte" */
    MOVE_REASON_RELATIVE_ROOT,   /* "relative-root" */
    MOVE_REASON_UNKNOWN,         /* "unknown": a msg_err without a name (a bug) */
    MOVE_REASON__COUNT
};

/* move_reason_name - the stable name of r, such as "changed"; "unknown"
 * for a value out of range. Never NULL; the string is static. */
const char *move_reason_name(enum move_reason r);

/*
 * move_reason_of_msg_err - the reason for a message msg_decode refused with
 * e (not MSG_OK). Its name is msg_err_name(e) (tests/unit/test_fileop.c
 * checks each one); MOVE_REASON_UNKNOWN for a value without a name.
 */
enum move_reason move_reason_of_msg_err(enum msg_err e);

#endif
