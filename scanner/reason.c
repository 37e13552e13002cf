/* reason.c - the names of scan's reason codes; see reason.h. */
#include "reason.h"

#include <stddef.h>

static const struct {
    const char *name;
    int failure;
} reasons[SCAN_REASON_COUNT] = {
    [SCAN_REASON_EXCLUDED] = {"excluded", 0},
    [SCAN_REASON_HIDDEN] = {"hidden", 0},
    [SCAN_REASON_TOO_SMALL] = {"too-small", 0},
    [SCAN_REASON_TOO_LARGE] = {"too-large", 0},
    [SCAN_REASON_TOO_YOUNG] = {"too-young", 0},
    [SCAN_REASON_TOO_OLD] = {"too-old", 0},
    [SCAN_REASON_MIME_NOT_ALLOWED] = {"mime-not-allowed", 0},
    [SCAN_REASON_SYMLINK] = {"symlink", 0},
    [SCAN_REASON_NOT_REGULAR] = {"not-regular", 0},
    [SCAN_REASON_UNREADABLE] = {"unreadable", 0},
    [SCAN_REASON_TOO_DEEP] = {"too-deep", 0},
    [SCAN_REASON_OTHER_FILESYSTEM] = {"other-filesystem", 0},
    [SCAN_REASON_ALREADY_QUEUED] = {"already-queued", 0},
    [SCAN_REASON_IO_ERROR] = {"io-error", 1},
    [SCAN_REASON_VANISHED] = {"vanished", 1},
    [SCAN_REASON_UNREADABLE_DIR] = {"unreadable-dir", 1},
    [SCAN_REASON_PATH_TOO_LONG] = {"path-too-long", 1},
    [SCAN_REASON_UNCONFIRMED] = {"unconfirmed", 1},
    [SCAN_REASON_NACKED] = {"nacked", 1},
    [SCAN_REASON_UNROUTABLE] = {"unroutable", 1},
};

const char *scan_reason_name(enum scan_reason r)
{
    return (unsigned)r < SCAN_REASON_COUNT ? reasons[r].name : NULL;
}

int scan_reason_is_failure(enum scan_reason r)
{
    return (unsigned)r < SCAN_REASON_COUNT && reasons[r].failure;
}
