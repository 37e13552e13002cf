/* metadata.c - extended attributes and POSIX ACLs kept across file
 * systems, as mv keeps them; see fileop_priv.h. */
#include "fileop_priv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

/* scan's in-flight mark (MARK_XATTR) and the mover's hash (HASH_XATTR):
 * they describe the source's trip, not the file, and are never copied. */
#define META_OWN_PREFIX "user.scanmove."

/* The move's scratch buffer holds the list of names in its first half and
 * one value in its second: each far above the kernel's limits (64 KiB for
 * a list, XATTR_LIST_MAX, and for a value, XATTR_SIZE_MAX). */
#define META_LIST_SIZE (FILEOP_BUF_SIZE / 2)
#define META_VALUE_SIZE (FILEOP_BUF_SIZE - META_LIST_SIZE)

/* Is e the destination (or the source, for one attribute) declining an
 * attribute, rather than a failing disk? Counted, not an I/O error. */
static int refused(int e)
{
    switch (e) {
    case ENOTSUP:
#if EOPNOTSUPP != ENOTSUP
    case EOPNOTSUPP:
#endif
    case EPERM:
    case EACCES:
    case E2BIG:
    case ERANGE:
    case EINVAL:
    case ENOSPC:
    case EDQUOT:
        return 1;
    default:
        return 0;
    }
}

/* The attribute name could not be kept (errno e): note it, or, under
 * --strict-metadata, fail the move (no space stays a reason to try later). */
static enum step lost(struct move *mv, const char *name, int e)
{
    struct fileop_notes *notes = mv->o->notes;
    if (mv->o->strict_metadata) {
        char sentence[384];
        snprintf(sentence, sizeof sentence, "the attribute %s was not kept on the copy: %s", name,
                 strerror(e));
        int full = e == ENOSPC || e == EDQUOT;
        return fileop_fail(mv, full ? FILEOP_TRANSIENT : FILEOP_PERMANENT,
                           full ? MOVE_REASON_NO_SPACE : MOVE_REASON_METADATA, sentence);
    }
    if (notes != NULL && notes->meta_lost++ == 0)
        snprintf(notes->meta_why, sizeof notes->meta_why, "%s: %s", name, strerror(e));
    return STEP_ON;
}

/* Copy the attribute name of mv->src onto mv->tmp through value
 * (META_VALUE_SIZE bytes). */
static enum step copy_one(struct move *mv, const char *name, char *value)
{
    ssize_t n = fgetxattr(mv->src, name, value, META_VALUE_SIZE);
    if (n < 0 && errno == ENODATA) /* removed since it was listed */
        return STEP_ON;
    if (n < 0 && !refused(errno))
        return fileop_fail_errno(mv, errno, 0, "cannot read the attributes of the source");
    if (n < 0)
        return lost(mv, name, errno);
    if (fsetxattr(mv->tmp, name, value, (size_t)n, 0) == 0)
        return STEP_ON;
    if (!refused(errno))
        return fileop_fail_errno(mv, errno, 1, "cannot copy the attributes");
    return lost(mv, name, errno);
}

/* Every attribute is tried, whatever became of the one before (a copy
 * that stopped at the first refusal would drop the others unsaid). The
 * access ACL is one of them (system.posix_acl_access): set after the
 * copy's chmod, it keeps the mode the ACL's mask implies; a file has no
 * default ACL. security.* and trusted.* are tried too: a mover without
 * the capability is refused, and counts it. */
enum step meta_copy(struct move *mv)
{
    char *list = fileop_buf(mv);
    if (list == NULL)
        return fileop_fail_errno(mv, errno, 0, "cannot copy the attributes");
    ssize_t len = flistxattr(mv->src, list, META_LIST_SIZE);
    if (len < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP || errno == ENOSYS))
        return STEP_ON; /* the source's file system keeps none */
    if (len < 0)
        return fileop_fail_errno(mv, errno, 0, "cannot list the attributes of the source");
    char *value = list + META_LIST_SIZE;
    for (ssize_t at = 0; at < len; at += (ssize_t)strlen(list + at) + 1) {
        const char *name = list + at;
        if (strncmp(name, META_OWN_PREFIX, sizeof META_OWN_PREFIX - 1) == 0)
            continue;
        enum step s = copy_one(mv, name, value);
        if (s != STEP_ON)
            return s;
    }
    return STEP_ON;
}
