/*
 * reason.h - scan's reason codes: why an entry was rejected or failed.
 *
 * Their names are a stable interface: they appear in --rejects lines, in
 * -v and failure lines on stderr, and as keys of the --json summary
 * (docs/scan.1). The summary lists them in this enum's order.
 */
#ifndef SCANMOVE_REASON_H
#define SCANMOVE_REASON_H

enum scan_reason {
    SCAN_REASON_NONE = 0, /* no reason: accepted, or published */
    /* Rejections: a rule or the walk left the entry out. */
    SCAN_REASON_EXCLUDED,
    SCAN_REASON_HIDDEN,
    SCAN_REASON_TOO_SMALL,
    SCAN_REASON_TOO_LARGE,
    SCAN_REASON_TOO_YOUNG,
    SCAN_REASON_TOO_OLD,
    SCAN_REASON_MIME_NOT_ALLOWED,
    SCAN_REASON_SYMLINK,
    SCAN_REASON_NOT_REGULAR,
    SCAN_REASON_UNREADABLE,
    SCAN_REASON_TOO_DEEP,
    SCAN_REASON_OTHER_FILESYSTEM,
    /* Left out because a message for it is already waiting (mark.h). */
    SCAN_REASON_ALREADY_QUEUED,
    /* Failures: the entry should have been published and was not. */
    SCAN_REASON_IO_ERROR,
    SCAN_REASON_VANISHED,
    SCAN_REASON_UNREADABLE_DIR,
    SCAN_REASON_PATH_TOO_LONG,
    SCAN_REASON_UNCONFIRMED,
    SCAN_REASON_NACKED,
    SCAN_REASON_UNROUTABLE,
    SCAN_REASON_COUNT /* not a reason: the number of values above */
};

/*
 * scan_reason_name - the code as the user sees it, e.g. "too-deep"; NULL
 * for SCAN_REASON_NONE and for values out of range.
 */
const char *scan_reason_name(enum scan_reason r);

/*
 * scan_reason_is_failure - 1 when r counts as a failure (the file should
 * have been published: exit status 1), 0 when it is a rejection, NONE or
 * out of range.
 */
int scan_reason_is_failure(enum scan_reason r);

#endif
