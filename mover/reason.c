/* reason.c - the mover's reason codes and their names; see reason.h. */
#include "reason.h"

static const char *const names[MOVE_REASON__COUNT] = {
    [MOVE_REASON_CHANGED] = "changed",
    [MOVE_REASON_VANISHED] = "vanished",
    [MOVE_REASON_NOT_REGULAR] = "not-regular",
    [MOVE_REASON_SYMLINK] = "symlink",
    [MOVE_REASON_EXISTS] = "exists",
    [MOVE_REASON_PERMISSION_DENIED] = "permission-denied",
    [MOVE_REASON_PATH_TOO_LONG] = "path-too-long",
    [MOVE_REASON_IO_ERROR] = "io-error",
    [MOVE_REASON_NO_SPACE] = "no-space",
    [MOVE_REASON_BUSY] = "busy",
    [MOVE_REASON_DEST_VANISHED] = "dest-vanished",
    [MOVE_REASON_CHECKSUM_MISMATCH] = "checksum-mismatch",
    [MOVE_REASON_METADATA] = "metadata-not-preserved",
    [MOVE_REASON_BAD_LAYOUT] = "bad-layout",
    [MOVE_REASON_ROOT_NOT_ALLOWED] = "root-not-allowed",
    [MOVE_REASON_OVERSIZED] = "oversized",
    [MOVE_REASON_MALFORMED_JSON] = "malformed-json",
    [MOVE_REASON_NOT_OBJECT] = "not-object",
    [MOVE_REASON_MISSING_FIELD] = "missing-field",
    [MOVE_REASON_WRONG_TYPE] = "wrong-type",
    [MOVE_REASON_UNKNOWN_VERSION] = "unknown-version",
    [MOVE_REASON_BAD_VALUE] = "bad-value",
    [MOVE_REASON_DUPLICATE_FIELD] = "duplicate-field",
    [MOVE_REASON_EMPTY_PATH] = "empty-path",
    [MOVE_REASON_ABSOLUTE_PATH] = "absolute-path",
    [MOVE_REASON_DOTDOT] = "dotdot",
    [MOVE_REASON_NUL_BYTE] = "nul-byte",
    [MOVE_REASON_RELATIVE_ROOT] = "relative-root",
    [MOVE_REASON_UNKNOWN] = "unknown",
};

/* One mover reason per decoder error; one word, one counter ("path-too-long"
 * is the same reason whether the decoder or the file system says it). */
static const enum move_reason of_msg_err[MSG_ERR__COUNT] = {
    [MSG_OK] = MOVE_REASON_UNKNOWN,
    [MSG_ERR_OVERSIZED] = MOVE_REASON_OVERSIZED,
    [MSG_ERR_JSON] = MOVE_REASON_MALFORMED_JSON,
    [MSG_ERR_NOT_OBJECT] = MOVE_REASON_NOT_OBJECT,
    [MSG_ERR_MISSING] = MOVE_REASON_MISSING_FIELD,
    [MSG_ERR_TYPE] = MOVE_REASON_WRONG_TYPE,
    [MSG_ERR_VERSION] = MOVE_REASON_UNKNOWN_VERSION,
    [MSG_ERR_VALUE] = MOVE_REASON_BAD_VALUE,
    [MSG_ERR_DUPLICATE] = MOVE_REASON_DUPLICATE_FIELD,
    [MSG_ERR_PATH_EMPTY] = MOVE_REASON_EMPTY_PATH,
    [MSG_ERR_PATH_ABSOLUTE] = MOVE_REASON_ABSOLUTE_PATH,
    [MSG_ERR_PATH_DOTDOT] = MOVE_REASON_DOTDOT,
    [MSG_ERR_PATH_NUL] = MOVE_REASON_NUL_BYTE,
    [MSG_ERR_PATH_LONG] = MOVE_REASON_PATH_TOO_LONG,
    [MSG_ERR_ROOT_RELATIVE] = MOVE_REASON_RELATIVE_ROOT,
};

/* A new msg_err needs a line above (and a reason, if its name is new). */
_Static_assert(MSG_ERR__COUNT == 15, "map every msg_err to a move_reason");

const char *move_reason_name(enum move_reason r)
{
    if ((int)r < 0 || r >= MOVE_REASON__COUNT || names[r] == NULL)
        return "unknown";
    return names[r];
}

enum move_reason move_reason_of_msg_err(enum msg_err e)
{
    if ((int)e < 0 || e >= MSG_ERR__COUNT)
        return MOVE_REASON_UNKNOWN;
    return of_msg_err[e];
}
