/* beneath.c - open a path beneath an open directory; see beneath.h. */
#include "beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int beneath_open(int dir, const char *path, int flags, mode_t mode, enum beneath_fallback fallback)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    /* RESOLVE_NO_SYMLINKS covers the last component too, and says ELOOP
     * for it, where O_NOFOLLOW | O_DIRECTORY would say ENOTDIR. */
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = syscall(SYS_openat2, dir, path, &how, sizeof how);
    if (fd >= 0 || fallback == BENEATH_STRICT || (errno != ENOSYS && errno != EPERM))
        return (int)fd;
    return openat(dir, path, (int)how.flags, (mode_t)how.mode);
}
