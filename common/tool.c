/* tool.c - shared front-end pieces; see tool.h. */
#include "tool.h"

#include "exitcode.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum mq_status tool_check(const struct cfg *c, const char *conn_name, char *out, size_t outlen,
                          char *err, size_t errlen)
{
    struct mq *m;
    struct mq_queue_info qi;
    enum mq_status s = mq_connect(c, conn_name, &m, err, errlen);
    if (s != MQ_OK)
        return s;
    s = mq_declare_topology(m, c, &qi, err, errlen);
    if (s == MQ_OK)
        snprintf(out, outlen,
                 "%s (%s): queue '%s' (%s) has %u messages and %u consumers; "
                 "'%s.dead' has %u messages",
                 mq_display_url(m), mq_server_version(m), c->queue,
                 cfg_queue_type_name(c->queue_type), qi.messages, qi.consumers, c->queue,
                 qi.dead_messages);
    mq_close(m);
    return s;
}

void tool_conn_name(const char *prog, char *out, size_t outlen)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    snprintf(out, outlen, "%s@%s[%ld]", prog, host, (long)getpid());
}

/* Permission has its own status: "does not exist" would send an operator
 * looking for a typo, not at the mode or the user. */
static int open_dir_fail(const char *path, int e, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", path, e == ENOTDIR ? "not a directory" : strerror(e));
    return e == EACCES || e == EPERM ? EXITCODE_NOPERM : EXITCODE_NOINPUT;
}

int tool_open_dir(const char *path, int *fd, char **real, char *err, size_t errlen)
{
    int e;
    *real = NULL;
    *fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0)
        return open_dir_fail(path, errno, err, errlen);
    /* Looking up "." needs search permission, as every name beneath does. */
    int probe = openat(*fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (probe < 0)
        goto fail;
    close(probe);
    *real = realpath(path, NULL);
    if (*real == NULL)
        goto fail;
    return 0;
fail:
    e = errno;
    close(*fd);
    *fd = -1;
    return open_dir_fail(path, e, err, errlen);
}
