/*
 * lock.h - one scan at a time per root: an exclusive flock(2) on each
 * root's open directory, held until the process exits.
 *
 * Locking the directory itself needs no lock file, works on read-only
 * sources and for every user, and two scans of one root (into any queue)
 * exclude each other, whatever path names the root. Where the file system
 * takes no flock on a directory (NFS emulates flock with byte-range locks,
 * which a read-only descriptor cannot take), the scan goes on unlocked, as
 * the mover does for its sources, and says so.
 */
#ifndef SCANMOVE_LOCK_H
#define SCANMOVE_LOCK_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

enum lock_result {
    LOCK_HELD,    /* locked */
    LOCK_NONE,    /* the file system takes no such lock (errno says why): unlocked */
    LOCK_BUSY,    /* another process holds it: *holder is its pid, 0 when unknown */
    LOCK_STOPPED, /* waiting was interrupted by *stop */
    LOCK_ERROR    /* errno says why */
};

/*
 * lock_root - take the exclusive lock of the directory open as fd. With
 * wait 0, return LOCK_BUSY at once when another process holds it; with
 * wait 1, wait until it is free or *stop is set (stop may be NULL),
 * calling waiting(arg, holder, first) before each pause of 100 ms (first
 * 1 the first time only), so that the caller can say so once and serve
 * its signals meanwhile. *holder gets the holder's pid when
 * known (from /proc/locks), else 0.
 */
enum lock_result lock_root(int fd, int wait, volatile sig_atomic_t *stop, pid_t *holder,
                           void (*waiting)(void *arg, pid_t holder, int first), void *arg);

#endif
