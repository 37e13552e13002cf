/*
 * beneath.h - open a path beneath an open directory, following no symlink.
 */
#ifndef SCANMOVE_BENEATH_H
#define SCANMOVE_BENEATH_H

#include <sys/types.h>

/* What to do on a kernel without openat2 (before Linux 5.6), or where a
 * seccomp filter refuses it (ENOSYS, EPERM). */
enum beneath_fallback {
    /* Fail with that errno. For a caller that creates, renames or removes
     * through the result (the mover): a plain openat could follow a
     * symlink on the way out of the root. */
    BENEATH_STRICT,
    /* Open with plain openat(dir, path, flags): only the last component is
     * guarded (by O_NOFOLLOW in flags). For a caller that only reads and
     * checks the device and inode of what it opened against what it listed
     * (the scanner), which makes a swapped directory harmless. */
    BENEATH_FALLBACK_OPENAT
};

/*
 * beneath_open - open path (relative) beneath dir with openat2(
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS): no
 * component, the last included, may be a symlink (ELOOP), and nothing
 * outside dir can be reached (EXDEV). flags always get O_CLOEXEC; mode is
 * used only with O_CREAT or O_TMPFILE. Without openat2, fallback says what
 * happens (see above). Returns the new descriptor (the caller closes it),
 * or -1 with errno.
 */
int beneath_open(int dir, const char *path, int flags, mode_t mode, enum beneath_fallback fallback);

#endif
