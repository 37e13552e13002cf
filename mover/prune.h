/*
 * prune.h - move --prune-empty-dirs: remove the source directories a move
 * has left empty, never a root, and never a directory a file has arrived
 * in meanwhile.
 */
#ifndef SCANMOVE_MOVER_PRUNE_H
#define SCANMOVE_MOVER_PRUNE_H

/*
 * prune_empty_dirs - remove dir (relative to the open root rootfd; "" is
 * the root itself: nothing to do) if it is empty, then its parents up to,
 * not including, the root, stopping at the first that is not empty (or
 * not removable). Each removal is one rmdir (unlinkat AT_REMOVEDIR), which
 * the kernel refuses for a directory with any entry: a file created
 * meanwhile keeps its directory. Components are opened beneath rootfd
 * without following symlinks. Returns the number of directories removed;
 * failures are not errors (another mover may have removed one first).
 */
int prune_empty_dirs(int rootfd, const char *dir);

#endif
