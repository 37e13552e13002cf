/*
 * lock.h - one scan at a time per root: an exclusive flock(2) on each
 * root's open directory, held until the process exits.
 *
 * Locking the directory itself needs no lock file, works on read-only
 * sources and for every user, and two scans of one root (into any queue)
 * exclude each other, whatever path names the root. Locks on NFS are the
 * server's (byte-range locks); where none can be taken the scan goes on
 * unlocked, as the mover does for its sources.
 */
#ifndef SCANMOVE_LOCK_H
#define SCANMOVE_LOCK_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

enum lock_result {
    LOCK_HELD,    /* locked (or the file system has no locks) */
    LOCK_BUSY,    /* another process holds it: *holder is its pid, 0 when unknown */
    LOCK_STOPPED, /* waiting was interrupted by *stop */
    LOCK_ERROR    /* errno says why */
};

/*
 * lock_root - take the exclusive lock of the directory open as fd. With
 * wait 0, return LOCK_BUSY at once when another process holds it; with
 * wait 1, call waiting(arg, holder) once and wait until it is free or
 * *stop is set (stop may be NULL). *holder gets the holder's pid when
 * known (from /proc/locks), else 0.
 */
enum lock_result lock_root(int fd, int wait, volatile sig_atomic_t *stop, pid_t *holder,
                           void (*waiting)(void *arg, pid_t holder), void *arg);

#endif
