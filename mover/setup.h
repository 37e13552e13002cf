/*
 * setup.h - what move checks of its directories before it connects: each
 * --from root and the --to directory opened, and a setup that could only
 * dead-letter or loop refused with one sentence and an exit status.
 */
#ifndef SCANMOVE_MOVER_SETUP_H
#define SCANMOVE_MOVER_SETUP_H

#include <stddef.h>

#include "consume.h"

/*
 * setup_open_dirs - open the --to directory to (into *dest_fd and
 * *dest_real, its realpath(3), malloc'ed) and the n --from roots from[i]
 * (into roots[i].fd and roots[i].real), and check that they can work
 * together, in this order:
 *  - --to must exist and be a directory (else EXITCODE_CANTCREAT), on a
 *    writable file system (else EXITCODE_CANTCREAT), and this user (the
 *    effective one) must be allowed to read, search and write it (else
 *    EXITCODE_NOPERM);
 *  - each root must exist and be a directory (else EXITCODE_NOINPUT), and
 *    this user must be allowed to read, search and write it, on a writable
 *    file system, since files are renamed out of it (else EXITCODE_NOPERM);
 *  - --to may not be a root (EXITCODE_USAGE), no root may be another or
 *    lie inside one (EXITCODE_USAGE; EXITCODE_NOINPUT when that cannot be
 *    examined), and --to may lie inside a root only beneath a hidden
 *    directory, which scan skips, for otherwise the moved files would be
 *    scanned and moved again (EXITCODE_USAGE).
 * Returns EXITCODE_OK; or, with nothing left open or allocated, the exit
 * status of the first failure and one sentence in err naming the option
 * and the directory, such as "--to /srv/out: Permission denied: user
 * 'nobody' may not create files in it".
 */
int setup_open_dirs(const char *to, const char *const *from, unsigned n, int *dest_fd,
                    char **dest_real, struct consume_root *roots, char *err, size_t errlen);

/*
 * setup_open_dir - open the directory path given with the option opt
 * (such as "--from") for reading only, as tool_open_dir does (*fd, *real),
 * without the checks of setup_open_dirs: for a command that moves
 * nothing. Returns EXITCODE_OK; or, with nothing left open and a sentence
 * such as "--from /srv/in: No such file or directory" in err,
 * EXITCODE_NOPERM when access is refused, else missing.
 */
int setup_open_dir(const char *opt, const char *path, int missing, int *fd, char **real, char *err,
                   size_t errlen);

/* setup_close_dirs - close and free what setup_open_dirs opened. */
void setup_close_dirs(int dest_fd, char *dest_real, struct consume_root *roots, unsigned n);

#endif
