/* setup.c - move's directories, opened and checked before connecting; see setup.h. */
#include "setup.h"

#include "exitcode.h"
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The name of the effective user, for a sentence: "'nobody'", or "uid 1234". */
static void user_name(char *out, size_t outlen)
{
    struct passwd *pw = getpwuid(geteuid());
    if (pw != NULL && pw->pw_name != NULL)
        snprintf(out, outlen, "'%s'", pw->pw_name);
    else
        snprintf(out, outlen, "uid %lu", (unsigned long)geteuid());
}

/*
 * May this user (its effective ids, as the kernel will judge each rename)
 * create and remove names in the open directory fd? The --to directory of
 * a mover run as nobody, owned by root, would otherwise be found out file
 * by file, each dead-lettered. Returns EXITCODE_OK, or nocreat (for a
 * read-only file system) or EXITCODE_NOPERM with the sentence in err.
 */
static int check_writable(int fd, const char *opt, const char *path, const char *what, int nocreat,
                          char *err, size_t errlen)
{
    char user[300];
    if (faccessat(fd, ".", W_OK | X_OK, AT_EACCESS) == 0)
        return EXITCODE_OK;
    int e = errno;
    if (e == EROFS) {
        snprintf(err, errlen, "%s %s is on a read-only file system: no file can be %s it", opt,
                 path, what);
        return nocreat;
    }
    user_name(user, sizeof user);
    snprintf(err, errlen, "%s %s: %s: user %s may not write there, so no file can be %s it", opt,
             path, strerror(e), user, what);
    return e == EACCES || e == EPERM ? EXITCODE_NOPERM : nocreat;
}

int setup_open_dir(const char *opt, const char *path, int missing, int *fd, char **real, char *err,
                   size_t errlen)
{
    char why[PATH_MAX + 256];
    int code = tool_open_dir(path, fd, real, why, sizeof why);
    if (code == EXITCODE_OK)
        return code;
    snprintf(err, errlen, "%s %s", opt, why);
    return code == EXITCODE_NOPERM ? code : missing;
}

/* setup_open_dir, and check that the directory may be written; on failure
 * nothing is left open. */
static int open_checked(const char *opt, const char *path, int missing, const char *what,
                        int nocreat, int *fd, char **real, char *err, size_t errlen)
{
    int code = setup_open_dir(opt, path, missing, fd, real, err, errlen);
    if (code != EXITCODE_OK)
        return code;
    code = check_writable(*fd, opt, path, what, nocreat, err, errlen);
    if (code != EXITCODE_OK) {
        close(*fd);
        free(*real);
        *fd = -1;
        *real = NULL;
    }
    return code;
}

/*
 * Where does the directory real (a realpath) lie under the directory
 * whose identity is root? Tries real itself, then each directory above it,
 * by device and inode, so that a root reached through a bind mount counts
 * too. Returns the length of the leading part of real that names root, or
 * 0 when real is not at or beneath it.
 */
static size_t under(const char *real, const struct stat *root)
{
    char path[PATH_MAX];
    struct stat st;
    size_t len = strlen(real);
    if (len == 0 || len >= sizeof path)
        return 0;
    memcpy(path, real, len + 1);
    while (len > 0) {
        if (stat(path, &st) == 0 && st.st_dev == root->st_dev && st.st_ino == root->st_ino)
            return len;
        if (len == 1)
            break;
        while (len > 1 && path[len - 1] != '/')
            len--;
        if (len > 1)
            len--; /* the slash, except the one of "/" */
        path[len] = '\0';
    }
    return 0;
}

/* Does a component of the relative path rel start with '.'? */
static int hidden_below(const char *rel)
{
    for (const char *c = rel; *c != '\0'; c++)
        if (*c == '.' && (c == rel || c[-1] == '/'))
            return 1;
    return 0;
}

/*
 * --to is no root, and lies inside one only where scan does not look: the
 * files moved into a DEST scan walks would be published and moved again,
 * into DEST/DEST/... on every cron cycle (mv refuses to move a directory
 * into itself for a like reason).
 */
static int check_dest_place(int dest_fd, const char *dest_real, const char *to,
                            const char *const *from, const struct consume_root *roots, unsigned n,
                            char *err, size_t errlen)
{
    struct stat d, r;
    if (fstat(dest_fd, &d) < 0) {
        snprintf(err, errlen, "--to %s: %s", to, strerror(errno));
        return EXITCODE_CANTCREAT;
    }
    for (unsigned i = 0; i < n; i++) {
        if (fstat(roots[i].fd, &r) < 0) {
            snprintf(err, errlen, "--from %s: %s", from[i], strerror(errno));
            return EXITCODE_NOINPUT;
        }
        size_t at = (d.st_dev == r.st_dev && d.st_ino == r.st_ino) ? strlen(dest_real)
                                                                   : under(dest_real, &r);
        if (at == 0)
            continue;
        const char *rel = dest_real + at;
        if (*rel == '/')
            rel++;
        if (*rel == '\0') {
            snprintf(err, errlen, "--to is the same directory as --from %s", from[i]);
            return EXITCODE_USAGE;
        }
        if (!hidden_below(rel)) {
            snprintf(err, errlen,
                     "--to %s is inside --from %s, which scan walks: moved files would come "
                     "back and be moved again, into %s/%s/...; use a hidden directory, such as "
                     "%s/.done",
                     to, from[i], to, rel, roots[i].real);
            return EXITCODE_USAGE;
        }
    }
    return EXITCODE_OK;
}

/* No root is another or lies inside one: a file beneath both would have
 * two roots, and which of its messages moved it, and where it landed,
 * would depend on their order. */
static int check_roots_apart(const char *const *from, const struct consume_root *roots, unsigned n,
                             char *err, size_t errlen)
{
    int *fds = calloc(n + 1, sizeof *fds);
    char **reals = calloc(n + 1, sizeof *reals);
    unsigned inner = 0, outer = 0;
    enum tool_nest nest = TOOL_NEST_ERROR;
    if (fds == NULL || reals == NULL) {
        snprintf(err, errlen, "out of memory");
    } else {
        for (unsigned i = 0; i < n; i++) {
            fds[i] = roots[i].fd;
            reals[i] = roots[i].real;
        }
        nest = tool_dirs_nested(fds, reals, n, &inner, &outer, err, errlen);
    }
    free(fds);
    free(reals);
    if (nest == TOOL_NEST_INSIDE)
        snprintf(err, errlen, "--from %s is inside --from %s: give each root once", from[inner],
                 from[outer]);
    else if (nest == TOOL_NEST_SAME)
        snprintf(err, errlen, "--from %s and --from %s are the same directory: give each root once",
                 from[outer], from[inner]);
    return nest == TOOL_NEST_NONE    ? EXITCODE_OK
           : nest == TOOL_NEST_ERROR ? EXITCODE_NOINPUT
                                     : EXITCODE_USAGE;
}

int setup_open_dirs(const char *to, const char *const *from, unsigned n, int *dest_fd,
                    char **dest_real, struct consume_root *roots, char *err, size_t errlen)
{
    unsigned opened = 0;
    int code = open_checked("--to", to, EXITCODE_CANTCREAT, "moved into", EXITCODE_CANTCREAT,
                            dest_fd, dest_real, err, errlen);
    if (code != EXITCODE_OK)
        return code;
    for (; opened < n; opened++) {
        code = open_checked("--from", from[opened], EXITCODE_NOINPUT, "moved out of",
                            EXITCODE_NOPERM, &roots[opened].fd, &roots[opened].real, err, errlen);
        if (code != EXITCODE_OK)
            break;
    }
    if (code == EXITCODE_OK)
        code = check_roots_apart(from, roots, n, err, errlen);
    if (code == EXITCODE_OK)
        code = check_dest_place(*dest_fd, *dest_real, to, from, roots, n, err, errlen);
    if (code != EXITCODE_OK) {
        setup_close_dirs(*dest_fd, *dest_real, roots, opened);
        *dest_fd = -1;
        *dest_real = NULL;
    }
    return code;
}

void setup_close_dirs(int dest_fd, char *dest_real, struct consume_root *roots, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        close(roots[i].fd);
        free(roots[i].real);
        roots[i].fd = -1;
        roots[i].real = NULL;
    }
    if (dest_fd >= 0)
        close(dest_fd);
    free(dest_real);
}
