/* mark.c - scan's in-flight mark on a source file; see mark.h. */
#include "mark.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

/*
 * The *xattrat(2) system calls (Linux 6.13) name the file by a directory
 * descriptor and one component, as the walk has it; glibc has no wrappers
 * yet. Where the kernel lacks them (ENOSYS, remembered), the directory is
 * named by its /proc path instead, then the one component, which the
 * l*xattr calls do not follow: slower (the /proc lookup costs about as
 * much as the attribute), as safe, since /proc/self/fd/N is the open
 * directory itself.
 */
#ifndef __NR_setxattrat
#define __NR_setxattrat 463
#define __NR_getxattrat 464
#define __NR_removexattrat 466
#endif

struct xattr_args {
    uint64_t value;
    uint32_t size;
    uint32_t flags;
};

static volatile int no_xattrat; /* the kernel said ENOSYS */

#define PROC_PATH_MAX (32 + NAME_MAX + 1)

static void at_path(char path[PROC_PATH_MAX], int dirfd, const char *name)
{
    snprintf(path, PROC_PATH_MAX, "/proc/self/fd/%d/%s", dirfd, name);
}

/* Did the *xattrat call give its answer (r), or must the /proc way try? */
static int answered(long r)
{
    if (r >= 0 || errno != ENOSYS)
        return 1;
    no_xattrat = 1;
    return 0;
}

/* Read (set 0: up to n bytes into v) or write (set 1: the n bytes at v)
 * the mark of name in dirfd: getxattrat/setxattrat, else the /proc way.
 * The size read or 0 written, or -1 with errno. */
static ssize_t value_at(int set, int dirfd, const char *name, void *v, size_t n)
{
    if (!no_xattrat) {
        struct xattr_args a = {.value = (uint64_t)(uintptr_t)v, .size = (uint32_t)n};
        long r = syscall(set ? __NR_setxattrat : __NR_getxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW,
                         MARK_XATTR, &a, sizeof a);
        if (answered(r))
            return (ssize_t)r;
    }
    char path[PROC_PATH_MAX];
    at_path(path, dirfd, name);
    return set ? lsetxattr(path, MARK_XATTR, v, n, 0) : lgetxattr(path, MARK_XATTR, v, n);
}

static int remove_at(int dirfd, const char *name)
{
    if (!no_xattrat) {
        long r = syscall(__NR_removexattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, MARK_XATTR);
        if (answered(r))
            return (int)r;
    }
    char path[PROC_PATH_MAX];
    at_path(path, dirfd, name);
    return lremovexattr(path, MARK_XATTR);
}

int mark_read_at(int dirfd, const char *name, char id[MSG_ID_LEN + 1], int64_t *when)
{
    char v[MARK_MAX + 1];
    ssize_t n = value_at(0, dirfd, name, v, MARK_MAX);
    if (n < 0)
        return errno == ENODATA || errno == ERANGE ? 0 : -1;
    v[n] = '\0';
    /* "<32 lowercase hex>,<seconds>[.<9 digits>]" and nothing else. */
    if (n < MSG_ID_LEN + 2 || v[MSG_ID_LEN] != ',')
        return 0;
    for (int i = 0; i < MSG_ID_LEN; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return 0;
    char *end;
    errno = 0;
    long long t = strtoll(v + MSG_ID_LEN + 1, &end, 10);
    if (errno != 0 || end == v + MSG_ID_LEN + 1 || t < 0 || t > INT64_MAX / 1000000000 - 1)
        return 0;
    long long ns = 0;
    if (*end == '.') { /* nine digits of nanoseconds */
        const char *f = end + 1;
        for (int i = 0; i < 9; i++, f++) {
            if (*f < '0' || *f > '9')
                return 0;
            ns = ns * 10 + (*f - '0');
        }
        end = (char *)f;
    }
    if (*end != '\0')
        return 0;
    memcpy(id, v, MSG_ID_LEN);
    id[MSG_ID_LEN] = '\0';
    *when = t * 1000000000LL + ns;
    return 1;
}

int mark_write_at(int dirfd, const char *name, const char *id, int64_t when)
{
    char v[MARK_MAX + 1];
    int n = snprintf(v, sizeof v, "%.*s,%" PRId64 ".%09" PRId64, MSG_ID_LEN, id, when / 1000000000,
                     when % 1000000000);
    return (int)value_at(1, dirfd, name, v, (size_t)n);
}

int mark_remove_at(int dirfd, const char *name)
{
    if (remove_at(dirfd, name) == 0 || errno == ENODATA)
        return 0;
    return -1;
}

int mark_still_queued(const char *mark_id, int64_t marked, const char *id, int64_t ctime,
                      int64_t now, uint64_t after_s)
{
    if (after_s == 0 || strncmp(mark_id, id, MSG_ID_LEN) != 0 ||
        ctime > marked + MARK_CTIME_SLACK_NS || marked > now + MARK_CTIME_SLACK_NS)
        return 0;
    return now <= marked || (uint64_t)(now - marked) / 1000000000u < after_s;
}
