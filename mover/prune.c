/* prune.c - move --prune-empty-dirs; see prune.h. */
#include "prune.h"

#include "beneath.h"
#include "msg.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Remove the directory path (relative to rootfd, not "") if it is empty:
 * its parent is opened beneath rootfd, following no symlink, and the last
 * component removed from it by one rmdir, which the kernel refuses for a
 * directory with any entry. Returns 0 when removed, -1 otherwise. */
static int remove_one(int rootfd, char *path)
{
    char *slash = strrchr(path, '/');
    const char *name = slash != NULL ? slash + 1 : path;
    if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return -1;
    int parent;
    if (slash == NULL) {
        parent = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
    } else {
        *slash = '\0';
        parent = path[0] != '\0'
                     ? beneath_open(rootfd, path, O_RDONLY | O_DIRECTORY, 0, BENEATH_STRICT)
                     : -1;
        *slash = '/';
    }
    if (parent < 0)
        return -1;
    int r = unlinkat(parent, name, AT_REMOVEDIR);
    close(parent);
    return r;
}

int prune_empty_dirs(int rootfd, const char *dir)
{
    char path[MSG_PATH_MAX + 1];
    size_t len = strlen(dir);
    if (len >= sizeof path)
        return 0;
    memcpy(path, dir, len + 1);
    int removed = 0;
    /* From the deepest upwards; the root's own name is never in path, so
     * the root is never removed. */
    for (;;) {
        while (len > 0 && path[len - 1] == '/')
            path[--len] = '\0';
        if (len == 0 || remove_one(rootfd, path) < 0)
            return removed;
        removed++;
        char *slash = strrchr(path, '/');
        len = slash != NULL ? (size_t)(slash - path) : 0;
        path[len] = '\0';
    }
}
