/*
 * mark.h - scan's in-flight mark: an extended attribute on a source file
 * saying that a message for it was confirmed by the broker, and when.
 *
 *   user.scanmove.queued = "<message id>,<unix seconds>.<nanoseconds>"
 *
 * scan writes it only after the broker has confirmed the file's message,
 * so a mark never exists without a confirmed message (a scan killed
 * between the confirm and the mark leaves no mark: the next scan publishes
 * again, a duplicate the mover recognises). The id covers the file's
 * device, inode, size, mtime, root and path: a file changed or replaced
 * since it was marked no longer matches its mark. The mover removes the
 * mark once the file has arrived; a copy across file systems never
 * carries it. No function here prints or exits.
 */
#ifndef SCANMOVE_MARK_H
#define SCANMOVE_MARK_H

#include <stdint.h>

#include "msg.h"

#define MARK_XATTR "user.scanmove.queued"
#define MARK_MAX 64 /* bytes of a mark's value, with room to spare */

/*
 * mark_read_at - read the mark of the file named name (one component) in
 * the open directory dirfd, not following a symlink and without opening
 * the file. Returns 1 with the id (MSG_ID_LEN hex characters and a NUL)
 * and its time in *when; 0 when the file has no mark, or one this version
 * cannot parse (treated as none); -1 with errno when the mark cannot be
 * read (ENOTSUP: the file system keeps no user xattrs; EACCES).
 */
int mark_read_at(int dirfd, const char *name, char id[MSG_ID_LEN + 1], int64_t *when);
/* (times in nanoseconds since the epoch, here and below) */

/*
 * mark_write_at - set the mark of the file named name in the open
 * directory dirfd (an O_PATH descriptor will do) to id and when, as
 * mark_read_at finds it. Returns 0, or -1 with errno (ENOENT: the file is
 * gone, moved already; ENOTSUP, EPERM, EACCES, EROFS, ENOSPC).
 */
int mark_write_at(int dirfd, const char *name, const char *id, int64_t when);

/*
 * mark_remove_at - remove the mark of the file named name in the open
 * directory dirfd, without following a symlink and without opening the
 * file. Returns 0 when removed or when there was none, -1 with errno.
 */
int mark_remove_at(int dirfd, const char *name);

/*
 * A mark is written at time T (nanoseconds, taken just before), which sets
 * the file's ctime to T or a moment later. A ctime later than T plus this
 * slack says the file was renamed, linked, chmod'ed or marked again since:
 * the mark no longer proves anything. The slack covers the step from T to
 * the write; it is short, because a file a mover renamed while scan was
 * writing its mark (the mark then lands after the mover removed it) must
 * not pass for queued once someone renames it back.
 */
#define MARK_CTIME_SLACK_NS 100000000LL /* 100 ms */

/*
 * mark_still_queued - 1 when a mark (mark_id, marked) read from a file
 * whose current id is id and ctime (seconds) is ctime says that its
 * confirmed message is still to be waited for at time now: the same id,
 * the file untouched since (ctime no later than marked plus
 * MARK_CTIME_SLACK_NS: a file moved away and back, as a mover killed before
 * it removed the mark and a person renaming it back would do, does not
 * count as queued), and marked less than after_s seconds ago (after_s 0:
 * never). A mark dated later than now (plus the slack) comes from a clock
 * that was wrong, here or on another host: it proves nothing. 0 otherwise.
 */
int mark_still_queued(const char *mark_id, int64_t marked, const char *id, int64_t ctime,
                      int64_t now, uint64_t after_s);

#endif
