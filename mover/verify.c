/* verify.c - the end-to-end checks of a move against the message's hash
 * (scan --checksum), and --hash-xattr; see fileop_priv.h. */
#include "fileop_priv.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

/* The algorithm of the message's hash into *alg: 1 when there is one to
 * check, 0 when there is none, or one of an algorithm this mover does not
 * know (a newer scan's): such files move unverified, said once. */
static int msg_alg(const struct msg *m, enum hash_alg *alg)
{
    static int warned;
    if (m->hash[0] == '\0')
        return 0;
    if (hash_str_parse(m->hash, alg) == 1)
        return 1;
    if (!warned) {
        warned = 1;
        log_warn("messages carry hashes of '%.*s', an algorithm this mover does not know: "
                 "their files are moved unverified (said once)",
                 (int)strcspn(m->hash, ":"), m->hash);
    }
    return 0;
}

/* Hash the whole open file fd into out, through the move's buffer, with
 * its heartbeats. Returns 0, or -1 with errno. */
static int hash_open_file(struct move *mv, int fd, enum hash_alg alg, char out[HASH_STR_MAX + 1])
{
    char *buf = fileop_buf(mv);
    if (buf == NULL)
        return -1;
    return hash_fd(fd, alg, buf, FILEOP_BUF_SIZE, mv->o->tick, mv->o->tick_arg, out);
}

static void note_hash(struct move *mv, const char *hash)
{
    if (mv->o->notes != NULL)
        snprintf(mv->o->notes->hash, sizeof mv->o->notes->hash, "%s", hash);
}

/* Is the open file fd still the source as the message has it? */
static int still_scanned(struct move *mv, int fd)
{
    struct stat now;
    return fstat(fd, &now) == 0 && now.st_dev == mv->st.st_dev && now.st_ino == mv->st.st_ino &&
           fileop_same_as_msg(&now, mv->m, mv->ident);
}

/* Count HASH_XATTR as refused with errno e in the notes, the first
 * refusal's why kept, as for the attributes metadata.c copies. */
static void note_refused(struct move *mv, int e)
{
    struct fileop_notes *n = mv->o->notes;
    if (n != NULL && n->meta_lost++ == 0)
        snprintf(n->meta_why, sizeof n->meta_why, "%s: %s", HASH_XATTR, strerror(e));
}

/* Set hash on fd as HASH_XATTR; a refusal is noted. Returns 0, or -1
 * with errno. */
static int set_hash_xattr(struct move *mv, int fd, const char *hash)
{
    if (fsetxattr(fd, HASH_XATTR, hash, strlen(hash), 0) == 0)
        return 0;
    int e = errno;
    note_refused(mv, e);
    errno = e;
    return -1;
}

enum step verify_source(struct move *mv)
{
    enum hash_alg alg;
    struct stat sd, dd;
    char got[HASH_STR_MAX + 1], sentence[320];
    if (!mv->o->verify || !msg_alg(mv->m, &alg))
        return STEP_ON;
    /* Across file systems the copy is hashed as written (verify_copy):
     * hashing the source too would read it twice. */
    if (fstat(mv->sdir, &sd) < 0 || fstat(mv->ddir, &dd) < 0 || sd.st_dev != dd.st_dev)
        return STEP_ON;
    int fd = openat(mv->sdir, mv->base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return STEP_ON; /* gone: the rename finds out, and whether it was moved */
    if (fd < 0)
        return fileop_fail_errno(mv, errno, 0, "cannot open the source to hash it");
    if (!still_scanned(mv, fd)) {
        close(fd);
        return fileop_fail(mv, FILEOP_PERMANENT, MOVE_REASON_CHANGED,
                           "the source changed since it was scanned");
    }
    int rc = hash_open_file(mv, fd, alg, got), e = errno;
    int same = rc == 0 && still_scanned(mv, fd);
    close(fd);
    if (rc < 0)
        return fileop_fail_errno(mv, e, 0, "cannot read the source to hash it");
    if (!same)
        return fileop_fail(mv, FILEOP_PERMANENT, MOVE_REASON_CHANGED,
                           "the source changed while it was being hashed");
    note_hash(mv, got);
    if (strcmp(got, mv->m->hash) == 0)
        return STEP_ON;
    snprintf(sentence, sizeof sentence,
             "the source's content hashes to %s, not to the scan's %s: it was rewritten since "
             "the scan (its size and mtime kept); left in place",
             got, mv->m->hash);
    return fileop_fail(mv, FILEOP_PERMANENT, MOVE_REASON_CHECKSUM_MISMATCH, sentence);
}

/* The copy does not hash as the message says: hash the source again to say
 * which side differs. Returns STEP_DONE. */
static enum step copy_mismatch(struct move *mv, enum hash_alg alg, const char *got)
{
    char src[HASH_STR_MAX + 1], sentence[320];
    if (!still_scanned(mv, mv->src))
        return fileop_fail(mv, FILEOP_PERMANENT, MOVE_REASON_CHANGED,
                           "the source changed while it was being copied");
    if (hash_open_file(mv, mv->src, alg, src) < 0)
        src[0] = '\0';
    if (strcmp(src, got) == 0)
        snprintf(sentence, sizeof sentence,
                 "the source's content hashes to %s, not to the scan's %s: it was rewritten "
                 "since the scan (its size and mtime kept); the copy dropped",
                 got, mv->m->hash);
    else if (strcmp(src, mv->m->hash) == 0)
        snprintf(sentence, sizeof sentence,
                 "the copy hashes to %s, not to the source's %s: it was damaged on its way; "
                 "dropped, the source left in place",
                 got, mv->m->hash);
    else
        snprintf(sentence, sizeof sentence,
                 "the copy hashes to %s, not to the scan's %s; dropped, the source left in place",
                 got, mv->m->hash);
    return fileop_fail(mv, FILEOP_PERMANENT, MOVE_REASON_CHECKSUM_MISMATCH, sentence);
}

enum step verify_copy(struct move *mv)
{
    enum hash_alg alg;
    char got[HASH_STR_MAX + 1];
    if (!msg_alg(mv->m, &alg))
        return STEP_ON;
    /* Read back what the copy holds (from the page cache, before the
     * flush): the bytes written, whatever the copy's path was. */
    if (hash_open_file(mv, mv->tmp, alg, got) < 0)
        return fileop_fail_errno(mv, errno, 1, "cannot read the copy back to hash it");
    note_hash(mv, got);
    if (strcmp(got, mv->m->hash) != 0)
        return copy_mismatch(mv, alg, got);
    if (!mv->o->hash_xattr || set_hash_xattr(mv, mv->tmp, got) == 0 || !mv->o->strict_metadata)
        return STEP_ON;
    char sentence[320];
    int e = errno;
    snprintf(sentence, sizeof sentence, "the destination refused the attribute %s: %s", HASH_XATTR,
             strerror(e));
    if (e == ENOSPC || e == EDQUOT) /* a full xattr block: try later */
        return fileop_fail(mv, FILEOP_TRANSIENT, MOVE_REASON_NO_SPACE, sentence);
    return fileop_fail(mv, FILEOP_PERMANENT, MOVE_REASON_METADATA, sentence);
}

enum step verify_placed(struct move *mv)
{
    enum hash_alg alg;
    /* The hash verify_source computed, equal to the message's. */
    if (!mv->o->hash_xattr || mv->o->notes == NULL || mv->o->notes->hash[0] == '\0' ||
        !msg_alg(mv->m, &alg))
        return STEP_ON;
    /* By descriptor, on the inode moved: never on a file put in its
     * place since the rename. A refusal is counted; the move stands. */
    int fd = openat(mv->ddir, mv->placed, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        note_refused(mv, errno);
        return STEP_ON;
    }
    struct stat now;
    if (fstat(fd, &now) == 0 && now.st_dev == mv->st.st_dev && now.st_ino == mv->st.st_ino)
        set_hash_xattr(mv, fd, mv->o->notes->hash);
    close(fd);
    return STEP_ON;
}
