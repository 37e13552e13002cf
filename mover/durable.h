/*
 * durable.h - getting the mover's changes to disk: fsync with heartbeats
 * (a watchdog thread ticks while a long flush blocks), and the group
 * commit of directories under --fsync.
 */
#ifndef SCANMOVE_DURABLE_H
#define SCANMOVE_DURABLE_H

/*
 * A group commit: the directories whose renames must reach the disk before
 * the messages of a group are acknowledged. Each directory is kept once
 * (by device and inode), so that a group of renames into the same
 * directories shares one fsync of each.
 */
#define DURABLE_GROUP_MAX 64

struct durable_group {
    int fd[DURABLE_GROUP_MAX];
    unsigned long long dev[DURABLE_GROUP_MAX], ino[DURABLE_GROUP_MAX];
    unsigned n;
    int error; /* first errno of an early flush (a full group), 0 if none */
};

/* durable_group_init - an empty group. */
void durable_group_init(struct durable_group *g);

/*
 * durable_group_add - remember directory dir (the caller keeps its own
 * descriptor; the group holds a duplicate) unless the group has it already.
 * A full group is flushed first. Returns 0, or -1 with errno when
 * duplicating the descriptor failed (the caller then fsyncs dir itself).
 */
int durable_group_add(struct durable_group *g, int dir);

/*
 * durable_group_flush - fsync every directory of the group and empty it.
 * Returns 0 when all of them (and every early flush since the last call)
 * succeeded, or -1 with errno of the first failure: the group's renames
 * may then not be durable.
 */
int durable_group_flush(struct durable_group *g);

/*
 * durable_fsync - fsync(fd). With a tick, a watchdog thread (started on
 * the first call) calls tick(arg) every 100 ms once the fsync has lasted
 * 100 ms, while it lasts, so that the broker's heartbeats go on during a
 * long flush; the caller's thread and the watchdog never run tick at once.
 * Without a tick (NULL), or when the thread cannot be started, a plain
 * fsync. Returns fsync's result, with its errno.
 */
int durable_fsync(int fd, void (*tick)(void *), void *arg);

#endif
