/* lock.c - one scan at a time per root; see lock.h. */
#include "lock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

/* The pid that holds a FLOCK on dev/ino, as /proc/locks says, or 0. Lines
 * look like "3: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF". */
static pid_t find_holder(const struct stat *st)
{
    FILE *f = fopen("/proc/locks", "re");
    if (f == NULL)
        return 0;
    char line[256];
    pid_t found = 0;
    while (found == 0 && fgets(line, sizeof line, f) != NULL) {
        char kind[16], mode[16];
        long pid;
        unsigned maj, min;
        unsigned long long ino;
        if (strstr(line, "->") != NULL) /* a waiter, not a holder */
            continue;
        if (sscanf(line, "%*d: %15s %*s %15s %ld %x:%x:%llu", kind, mode, &pid, &maj, &min, &ino) ==
                6 &&
            strcmp(kind, "FLOCK") == 0 && strcmp(mode, "WRITE") == 0 && maj == major(st->st_dev) &&
            min == minor(st->st_dev) && ino == st->st_ino)
            found = (pid_t)pid;
    }
    fclose(f);
    return found;
}

enum lock_result lock_root(int fd, int wait, volatile sig_atomic_t *stop, pid_t *holder,
                           void (*waiting)(void *arg, pid_t holder, int first), void *arg)
{
    const struct timespec pause = {0, 100 * 1000 * 1000};
    struct stat st;
    *holder = 0;
    for (int said = 0;; said = 1) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return LOCK_HELD;
        if (errno == ENOLCK || errno == EINVAL || errno == EOPNOTSUPP || errno == EBADF)
            return LOCK_NONE; /* no locks here: unlocked, as lock.h says */
        if (errno != EWOULDBLOCK && errno != EINTR)
            return LOCK_ERROR;
        if (!said) {
            *holder = fstat(fd, &st) == 0 ? find_holder(&st) : 0;
            if (!wait)
                return LOCK_BUSY;
        }
        if (waiting != NULL)
            waiting(arg, *holder, !said);
        if (stop != NULL && *stop)
            return LOCK_STOPPED;
        nanosleep(&pause, NULL);
    }
}
