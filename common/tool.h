/*
 * tool.h - what the scan and move front ends share beyond the broker
 * settings: the --check command and the conventions of main().
 *
 * Library code: it returns statuses and fills buffers; printing and
 * exiting stay in each tool's main.c.
 */
#ifndef SCANMOVE_TOOL_H
#define SCANMOVE_TOOL_H

#include <stddef.h>

#include "cfg.h"
#include "mq.h"

/*
 * tool_check - connect to the broker of c, declare the topology, and write
 * a one-line report into out (outlen bytes) such as "amqp://guest@h:5672/
 * (RabbitMQ 3.10.8): queue 'files' (quorum) has 12 messages, 2 consumers;
 * 'files.dead' has 0 messages". conn_name as for mq_connect. Returns
 * MQ_OK, or the failure with its sentence in err.
 */
enum mq_status tool_check(const struct cfg *c, const char *conn_name, char *out, size_t outlen,
                          char *err, size_t errlen);

/*
 * tool_conn_name - write "prog@host[pid]" into out, the connection name
 * shown by the broker, so an operator can tell the movers apart.
 */
void tool_conn_name(const char *prog, char *out, size_t outlen);

/*
 * tool_open_dir - open a directory named on the command line: *fd
 * (O_RDONLY | O_DIRECTORY, close-on-exec) and *real, its realpath(3),
 * malloc'ed for the caller to free. A directory that may be read but not
 * searched is refused too, since no name beneath it could be opened.
 * Returns 0; or, with nothing left open and a sentence in err such as
 * "DIR: Permission denied", EXITCODE_NOPERM when access is refused and
 * EXITCODE_NOINPUT when path does not exist, is not a directory, or fails
 * otherwise.
 */
int tool_open_dir(const char *path, int *fd, char **real, char *err, size_t errlen);

enum tool_nest {
    TOOL_NEST_ERROR = -1, /* a directory could not be examined; see err */
    TOOL_NEST_NONE = 0,   /* no directory is, or lies inside, another */
    TOOL_NEST_INSIDE,     /* directory *inner lies inside directory *outer */
    TOOL_NEST_SAME        /* directories *outer and *inner are one */
};

/*
 * tool_dirs_nested - find two of the n directories given on a command line
 * of which one is the other or lies beneath it, since a tool handed both
 * would see their common files twice. fds[i] is the open directory and
 * reals[i] its realpath(3) (absolute, no symbolic links); neither is
 * changed. Directories are compared by device and inode: each against the
 * others and against every ancestor of the others (the directories the
 * leading components of reals[i] name), so the same directory reached
 * through a symbolic link, "..", a bind mount or another spelling counts.
 * Returns TOOL_NEST_NONE; TOOL_NEST_INSIDE or TOOL_NEST_SAME with the two
 * indexes in *inner and *outer (for TOOL_NEST_SAME, *outer < *inner); or
 * TOOL_NEST_ERROR with a sentence in err (out of memory, or an ancestor
 * that vanished since realpath). n == 0 is TOOL_NEST_NONE.
 */
enum tool_nest tool_dirs_nested(const int *fds, char *const *reals, unsigned n, unsigned *inner,
                                unsigned *outer, char *err, size_t errlen);

#endif
