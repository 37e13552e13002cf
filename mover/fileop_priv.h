/*
 * fileop_priv.h - the state of one move, shared by the steps in fileop.c
 * and their helpers in conflict.c and copy.c. Not for other modules.
 */
#ifndef SCANMOVE_FILEOP_PRIV_H
#define SCANMOVE_FILEOP_PRIV_H

#include "durable.h"
#include "fileop.h"

#include <limits.h>
#include <sys/stat.h>

/* How much of a file's identity to compare with the message. */
enum same { SAME_CONTENT, SAME_INODE, SAME_DEVICE_INODE };

/* Where a step leaves the move. */
enum step {
    STEP_ON,     /* go on with the next step */
    STEP_DONE,   /* finished: mv->r (and, on failure, the reason and err) */
    STEP_GONE,   /* the source is gone: moved before, or vanished */
    STEP_PLACED, /* renamed into place as mv->placed: verify that */
};

/* One call of fileop_move. */
struct move {
    const struct msg *m;
    const struct fileop_opts *o;
    int srcroot, dstroot;
    char dir[MSG_PATH_MAX + 1]; /* m->path's directory, "" for none */
    const char *base;           /* m->path's last component */
    /* Where it goes beneath dstroot: o->dest_rel (the --layout expansion),
     * or m->path; its directory ("" for none) and last component. */
    const char *dpath;
    char ddirp[MSG_PATH_MAX + 1];
    const char *dbase;
    char name[NAME_MAX + 32]; /* a conflict name, or a finished copy's name */
    /* This message's private names in a directory: the named temporary
     * copy (where there is no O_TMPFILE), the source on its way out, the
     * time probe. Only a crash can leave one behind, and the redelivery
     * removes it, holding the source's lock. */
    char tname[MSG_ID_LEN + 32], dname[MSG_ID_LEN + 32], pname[MSG_ID_LEN + 32];
    /* Device numbers are local to a host (an NFS mount gets its own on
     * each): from another host's scan, the inode is the identity. */
    enum same ident;
    int sdir, ddir, src, tmp; /* open descriptors, -1 when not */
    int named;                /* tmp is the named temporary tname in ddir */
    int e;                    /* errno of the failed rename the slow paths handle */
    struct stat st;           /* the source, as last checked */
    const char *placed;       /* the name a rename gave the file in ddir */
    char *buf;                /* FILEOP_BUF_SIZE bytes: o->buf, or own_buf */
    char *own_buf;
    enum fileop_result r;
    enum move_reason *reason;
    char *final_path, *err;
    size_t errlen;
};

/* When a directory's new entries must reach the disk before the ack. */
enum fileop_when {
    FILEOP_WITH_FSYNC, /* under --fsync only: a rename */
    FILEOP_ALWAYS      /* in every case: a copied source's removal */
};

/* fileop_dir_durable - make dir's entries durable as when says: in the
 * --fsync group when there is one, else now (or, FILEOP_WITH_FSYNC without
 * --fsync, not at all). Returns 0, or -1 with errno. */
int fileop_dir_durable(const struct move *mv, int dir, enum fileop_when when);

/* fileop_fsync - fsync(fd), with the move's heartbeats while it lasts. */
int fileop_fsync(const struct fileop_opts *o, int fd);

/* fileop_buf - the move's FILEOP_BUF_SIZE-byte scratch buffer (allocated
 * on first use when the caller gave none), or NULL with errno. fileop_move
 * gets it before its first step, so the steps always have it. */
char *fileop_buf(struct move *mv);

/* fileop_same_as_msg - is st the file m describes: a regular file of its
 * size and mtime, and, as how asks, its inode (and device)? */
int fileop_same_as_msg(const struct stat *st, const struct msg *m, enum same how);

/*
 * fileop_rename_noreplace - rename sname in sdir to dname in ddir, never
 * replacing a file there (EEXIST): renameat2 with RENAME_NOREPLACE, or,
 * where the file system has no such flag (EINVAL, ENOSYS: NFS), a link,
 * which never replaces either, and an unlink of the old name. A crash
 * between the two leaves both names on one inode; the redelivery finds
 * the same bytes at the destination and removes the source. Returns 0, or
 * -1 with errno (EXDEV across file systems, ENOENT when sname is gone).
 */
int fileop_rename_noreplace(int sdir, const char *sname, int ddir, const char *dname);

/* fileop_still_there - is base in dir still the inode st? */
int fileop_still_there(int dir, const char *base, const struct stat *st);

/* fileop_join - out (MSG_PATH_MAX + 32 bytes) = dir/name, or name. */
void fileop_join(char *out, const char *dir, const char *name);

/* fileop_fail - end the move with r, reason why and the sentence.
 * Returns STEP_DONE. */
enum step fileop_fail(struct move *mv, enum fileop_result r, enum move_reason why,
                      const char *sentence);

/* fileop_classify - the result and reason (set in the move) for errno e
 * of an operation on the source (in_dest 0) or in a destination directory
 * (in_dest 1, where ENOENT says the directory was removed meanwhile). */
enum fileop_result fileop_classify(struct move *mv, int e, int in_dest);

/* fileop_fail_errno - end the move on errno e, classified as
 * fileop_classify does, with the sentence "what: strerror(e)". Returns
 * STEP_DONE. */
enum step fileop_fail_errno(struct move *mv, int e, int in_dest, const char *what);

/* conflict_name - the n-th conflict name of base, "name.N.ext", at most
 * NAME_MAX bytes (see conflict.c). */
void conflict_name(const char *base, unsigned n, char *out, size_t outlen);

/* conflict_resolve - the step after a rename found the name taken (mv->e
 * EEXIST): finish an earlier copy found there, or apply --on-conflict. */
enum step conflict_resolve(struct move *mv);

/* conflict_already_done - is the file of the message, whose source is
 * gone, at the destination under its name or a conflict name? When it is,
 * mv->placed names it (mv->base, or mv->name). */
int conflict_already_done(struct move *mv);

/* verify_source - the step before a rename, under --verify (or
 * --hash-xattr) with a hash in the message: hash the source and compare
 * (a mismatch fails the move as MOVE_REASON_CHECKSUM_MISMATCH, nothing
 * changed). STEP_ON otherwise (verify.c). */
enum step verify_source(struct move *mv);

/* verify_copy - after the copy into mv->tmp (open for reading and
 * writing), before it is flushed: hash the copy as written and compare
 * with the message's hash when it has one (a mismatch fails the move;
 * the copy is dropped by the caller); with --hash-xattr set the hash on
 * mv->tmp (verify.c). */
enum step verify_copy(struct move *mv);

/* verify_placed - after a rename put the file in place as mv->placed:
 * with --hash-xattr, set the hash verify_source computed (verify.c). */
enum step verify_placed(struct move *mv);

/* meta_copy - after the copy into mv->tmp, before it is flushed: copy the
 * extended attributes and POSIX ACLs of mv->src onto it, never scan's
 * user.scanmove.* marks; what the destination refuses is counted in
 * o->notes (or fails the move under --strict-metadata) (metadata.c). */
enum step meta_copy(struct move *mv);

/* copy_across - the step across file systems: copy, make durable, give the
 * copy its name, then remove the source. */
enum step copy_across(struct move *mv);

#endif
