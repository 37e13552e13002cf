/*
 * requeue.h - move --requeue-dead's judgement of one dead letter: put it
 * back on the queue, or drop it as obsolete because its file is gone, has
 * changed (a newer scan handles it) or is already at DEST. The letters
 * themselves are read and acted on by dead.c.
 */
#ifndef SCANMOVE_REQUEUE_H
#define SCANMOVE_REQUEUE_H

#include "msg.h"

enum requeue_verdict {
    REQUEUE_PUT_BACK,     /* "requeue": the file is still there as scanned, or cannot be checked */
    REQUEUE_DROP_GONE,    /* "gone": nothing at root/path, and not at DEST */
    REQUEUE_DROP_CHANGED, /* "changed": root/path is another file, or changed */
    REQUEUE_DROP_AT_DEST, /* "at-dest": DEST holds the file (moved, or copied) */
    REQUEUE__COUNT
};

/* requeue_verdict_name - "requeue", "gone", "changed" or "at-dest"; static. */
const char *requeue_verdict_name(enum requeue_verdict v);

/*
 * requeue_judge - what to do with the dead letter of the decoded message
 * m. root_fd is m's root, open (a --from root), or -1 to open m->root by
 * its name; dest_fd is --to, open, or -1 when not given; host is this
 * host's name (the device number is compared only for messages scanned
 * here, as the mover does). root/path is looked at beneath the root
 * without following any symbolic link (lstat-like, nothing is read):
 * nothing there gives REQUEUE_DROP_GONE, anything but the regular file of
 * m's device, inode, size and mtime REQUEUE_DROP_CHANGED. DEST/dest_rel
 * (where the mover puts the file: the --layout expansion; NULL: m's path)
 * holding m's inode, or, with the source gone, a regular file of its size
 * and mtime (a copy across file systems), gives REQUEUE_DROP_AT_DEST. Any
 * other failure to look (permission, I/O, a root or a directory on the way
 * missing here, such as a file system not mounted on this host, a message
 * of another host with no --from root for it, no openat2(2)) gives
 * REQUEUE_PUT_BACK: the mover then decides, as it would have.
 */
enum requeue_verdict requeue_judge(const struct msg *m, int root_fd, int dest_fd,
                                   const char *dest_rel, const char *host);

#endif
