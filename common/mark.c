/* mark.c - scan's in-flight mark on a source file; see mark.h. */
#include "mark.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

/* glibc has no *xattrat(2): the descriptor's directory by its /proc
 * name, then one component that the l*xattr calls do not follow. Nothing
 * on the way can be a symlink swapped in: /proc/self/fd/N is the open
 * directory itself. */
#define PROC_PATH_MAX (32 + NAME_MAX + 1)

static void at_path(char path[PROC_PATH_MAX], int dirfd, const char *name)
{
    snprintf(path, PROC_PATH_MAX, "/proc/self/fd/%d/%s", dirfd, name);
}

int mark_read_at(int dirfd, const char *name, char id[MSG_ID_LEN + 1], int64_t *when)
{
    char v[MARK_MAX + 1], path[PROC_PATH_MAX];
    at_path(path, dirfd, name);
    ssize_t n = lgetxattr(path, MARK_XATTR, v, MARK_MAX);
    if (n < 0)
        return errno == ENODATA || errno == ERANGE ? 0 : -1;
    v[n] = '\0';
    /* "<32 lowercase hex>,<decimal seconds>" and nothing else. */
    if (n < MSG_ID_LEN + 2 || v[MSG_ID_LEN] != ',')
        return 0;
    for (int i = 0; i < MSG_ID_LEN; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return 0;
    char *end;
    errno = 0;
    long long t = strtoll(v + MSG_ID_LEN + 1, &end, 10);
    if (errno != 0 || *end != '\0' || end == v + MSG_ID_LEN + 1 || t < 0)
        return 0;
    memcpy(id, v, MSG_ID_LEN);
    id[MSG_ID_LEN] = '\0';
    *when = t;
    return 1;
}

int mark_write_at(int dirfd, const char *name, const char *id, int64_t when)
{
    char v[MARK_MAX + 1], path[PROC_PATH_MAX];
    at_path(path, dirfd, name);
    int n = snprintf(v, sizeof v, "%.*s,%" PRId64, MSG_ID_LEN, id, when);
    return lsetxattr(path, MARK_XATTR, v, (size_t)n, 0);
}

int mark_remove_at(int dirfd, const char *name)
{
    char path[PROC_PATH_MAX];
    at_path(path, dirfd, name);
    if (lremovexattr(path, MARK_XATTR) == 0 || errno == ENODATA)
        return 0;
    return -1;
}

int mark_still_queued(const char *mark_id, int64_t marked, const char *id, int64_t ctime,
                      int64_t now, uint64_t after_s)
{
    if (after_s == 0 || strncmp(mark_id, id, MSG_ID_LEN) != 0 ||
        ctime > marked + MARK_CTIME_SLACK_S || marked > now + MARK_CTIME_SLACK_S)
        return 0;
    return now <= marked || (uint64_t)(now - marked) < after_s;
}
