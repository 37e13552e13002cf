/* tool.c - shared front-end pieces; see tool.h. */
#include "tool.h"

#include <stdio.h>
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
